"""TLS settings: check the client's TLS arguments and build the one
`ssl.SSLContext` both drivers use, plus the small memory-BIO wrapper the
thread driver encrypts and decrypts through (so its socket stays a plain
non-blocking socket, and the selector sees every byte that is waiting).

Nothing here logs or keeps the key file's password.
"""

from __future__ import annotations

import os
import ssl
from typing import Any, List, Optional, Union, cast

__all__ = ["make_ssl_context", "TLSStream", "describe_tls_error", "closed_reason"]

PathArg = Union[str, "os.PathLike[str]"]

_READ_SIZE = 64 * 1024


def _check_path(name: str, value: Any, directory_ok: bool = False) -> str:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), not {type(value).__name__}")
    path = os.fspath(value)
    if os.path.isfile(path) or (directory_ok and os.path.isdir(path)):
        return path
    what = "file or directory" if directory_ok else "file"
    raise FileNotFoundError(f"{name}={path!r}: no such {what}")


def _given(ca: Any, certfile: Any, keyfile: Any, keyfile_password: Any,
           verify_hostname: Any) -> List[str]:
    return [name for name, value in (("ca", ca), ("certfile", certfile), ("keyfile", keyfile),
                                     ("keyfile_password", keyfile_password),
                                     ("verify_hostname", verify_hostname))
            if value is not None]


def make_ssl_context(use_ssl: Optional[bool] = None, *, ca: Optional[PathArg] = None,
                     certfile: Optional[PathArg] = None, keyfile: Optional[PathArg] = None,
                     keyfile_password: Optional[Union[str, bytes]] = None,
                     verify_hostname: Optional[bool] = None,
                     ssl_context: Optional[ssl.SSLContext] = None) -> Optional[ssl.SSLContext]:
    """The client's SSLContext for these constructor arguments, or None
    for a plain TCP client.

    - `ssl_context`: used as given (it decides verification and client
      certificates); the file arguments and `verify_hostname` must then
      be left out.
    - `use_ssl=True`: a context that verifies the server's certificate
      against `ca` (a PEM file or a directory of hashed certificates;
      the system's CAs when None) and, unless `verify_hostname=False`,
      checks that it names the host of the connect string (an IP address
      must be in the certificate's subjectAltName). `certfile` (PEM,
      with the key unless `keyfile` is given) is the client certificate,
      for servers that ask for one; `keyfile_password` unlocks the key.

    Raises TypeError or ValueError naming the argument at fault, and
    FileNotFoundError for a file that does not exist.
    """
    if use_ssl is not None and not isinstance(use_ssl, bool):
        raise TypeError(f"use_ssl must be True or False, not {use_ssl!r}")
    if verify_hostname is not None and not isinstance(verify_hostname, bool):
        raise TypeError(f"verify_hostname must be True or False, not {verify_hostname!r}")
    if ssl_context is not None:
        if not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(f"ssl_context must be an ssl.SSLContext, not {type(ssl_context).__name__}")
        if use_ssl is False:
            raise ValueError("ssl_context given with use_ssl=False")
        given = _given(ca, certfile, keyfile, keyfile_password, verify_hostname)
        if given:
            raise ValueError(f"pass {', '.join(given)} or ssl_context, not both: "
                             "an ssl_context already holds its CAs, certificates and checks")
        if ssl_context.protocol == ssl.PROTOCOL_TLS_SERVER:
            raise ValueError("ssl_context is a server-side context (PROTOCOL_TLS_SERVER); "
                             "make it with ssl.create_default_context() or PROTOCOL_TLS_CLIENT")
        return ssl_context
    if not use_ssl:
        given = _given(ca, certfile, keyfile, keyfile_password, verify_hostname)
        if given:
            raise ValueError(f"{', '.join(given)} given without use_ssl=True")
        return None
    if keyfile is not None and certfile is None:
        raise ValueError("keyfile given without certfile: the client certificate is missing")
    if keyfile_password is not None:
        if certfile is None:
            raise ValueError("keyfile_password given without certfile/keyfile")
        if not isinstance(keyfile_password, (str, bytes, bytearray)):
            raise TypeError("keyfile_password must be str or bytes, "
                            f"not {type(keyfile_password).__name__}")
    ca_path = _check_path("ca", ca, directory_ok=True) if ca is not None else None
    cert_path = _check_path("certfile", certfile) if certfile is not None else None
    key_path = _check_path("keyfile", keyfile) if keyfile is not None else None

    # Only `ca` is trusted when given (not the system's CAs as well).
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = verify_hostname is not False
    context.verify_mode = ssl.CERT_REQUIRED
    if ca_path is None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        try:
            if os.path.isdir(ca_path):
                context.load_verify_locations(capath=ca_path)
            else:
                context.load_verify_locations(cafile=ca_path)
        except ssl.SSLError as exc:
            raise ValueError(f"ca={ca_path!r}: not a PEM file of CA certificates "
                             f"({exc.reason or exc})") from None
    if cert_path is not None:
        try:
            context.load_cert_chain(cert_path, key_path, password=(
                keyfile_password if keyfile_password is not None else _no_password(key_path or cert_path)))
        except ssl.SSLError as exc:
            # (The password itself never goes into the message.)
            files = f"certfile={cert_path!r}" + (f", keyfile={key_path!r}" if key_path else "")
            hint = " (or keyfile_password is wrong)" if keyfile_password is not None else ""
            raise ValueError(f"cannot load the client certificate and key from {files}: "
                             f"{exc.reason or exc}{hint}") from None
    return context


def _no_password(path: str) -> Any:
    def ask() -> bytes:
        # (Without a callback OpenSSL would prompt on the terminal.)
        raise ValueError(f"the key in {path!r} is encrypted: pass keyfile_password")
    return ask


def describe_tls_error(exc: BaseException) -> str:
    """A short reason for a failed TLS handshake, for logs and exceptions."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or getattr(exc, "reason", None) or str(exc)
        return f"TLS certificate verification failed: {detail}"
    reason = getattr(exc, "reason", None) or ""
    if isinstance(exc, (ssl.SSLEOFError, ConnectionError, EOFError)) or reason == (
            "UNEXPECTED_EOF_WHILE_READING"):
        return ("TLS handshake failed: the server closed the connection (not a TLS port, "
                "or it wants a client certificate it trusts?)")
    if reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG",
                  "HTTP_REQUEST", "UNKNOWN_PROTOCOL"):
        return f"TLS handshake failed: the server does not speak TLS ({reason})"
    if "ALERT_" in reason:
        alert = reason.split("ALERT_", 1)[1].lower().replace("_", " ")
        hint = (": it refused the client certificate, or the lack of one (pass certfile/keyfile "
                "with a certificate its trust store accepts)" if "certificate" in alert else "")
        return f"TLS handshake failed: the server sent alert '{alert}'{hint}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {reason or exc}"
    return f"TLS handshake failed: {exc or type(exc).__name__}"


def closed_reason(session_started: bool, tls: bool) -> str:
    """Why a connection ended when the server closed it."""
    if session_started or tls:
        return "the server closed the connection"
    # (A TLS port closes the connection on the first bytes that are not TLS.)
    return ("the server closed the connection before giving a session "
            "(if it is a TLS port, connect with use_ssl=True)")


class TLSStream:
    """One TLS connection's state over memory BIOs: the caller moves the
    ciphertext; nothing is buffered where a selector cannot see it.

    Not thread-safe: the thread driver calls it under its lock."""

    def __init__(self, context: ssl.SSLContext, server_hostname: str) -> None:
        self._incoming = ssl.MemoryBIO()
        # Plaintext is read into one buffer (see threaded._RECV_SIZE for why).
        self._plain_view = memoryview(bytearray(_READ_SIZE))
        self._outgoing = ssl.MemoryBIO()
        self._object = context.wrap_bio(self._incoming, self._outgoing, server_side=False,
                                        server_hostname=server_hostname)

    def handshake_step(self) -> bool:
        """Advance the handshake; True once done. Send `outgoing()` after
        each step and `feed()` what arrives. Raises ssl.SSLError."""
        try:
            self._object.do_handshake()
        except ssl.SSLWantReadError:
            return False
        return True

    def feed(self, ciphertext: bytes) -> None:
        self._incoming.write(ciphertext)

    def outgoing(self) -> bytes:
        """Ciphertext waiting to be sent."""
        return self._outgoing.read() if self._outgoing.pending else b""

    def encrypt(self, data: bytes) -> bytes:
        """The ciphertext of `data` (with anything else waiting to go out)."""
        self._object.write(data)
        return self._outgoing.read()

    def decrypt(self, ciphertext: bytes) -> bytes:
        """All the plaintext `ciphertext` completes (b"" if only part of a
        record arrived). Raises ConnectionResetError when the server ended
        the TLS session, ssl.SSLError for a broken stream."""
        if ciphertext:
            self._incoming.write(ciphertext)
        chunks = []
        buffer = self._plain_view
        while True:
            try:
                # (With a buffer, read() returns the byte count.)
                count = cast(int, self._object.read(len(buffer), buffer))
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                raise ConnectionResetError("the server ended the TLS session") from None
            if not count:
                break
            chunks.append(bytes(buffer[:count]))
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    @property
    def version(self) -> Optional[str]:
        return self._object.version()

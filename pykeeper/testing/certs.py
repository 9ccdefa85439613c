"""Throwaway TLS certificates for test servers, made with the ``openssl``
command (Debian's ``openssl`` package, which ``ca-certificates`` and so
Java already pull in).

    certs = make_certificates("/tmp/some/dir")
    certs.ca_file, certs.server_cert, certs.client_cert, certs.client_key

Each call makes a new CA (ECDSA P-256 keys, valid for two days) that signs
one server certificate (for 127.0.0.1, ::1 and localhost by default) and one
client certificate; two calls make two CAs that do not trust each other,
which is what a "wrong CA" test needs. It takes about 0.1 s.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

__all__ = ["Certificates", "make_certificates", "make_client_certificate",
           "OpenSSLNotInstalled"]

DEFAULT_SERVER_NAMES = ("127.0.0.1", "::1", "localhost")
_DAYS = "2"


class OpenSSLNotInstalled(RuntimeError):
    """The ``openssl`` command is missing; the message says how to install it."""


@dataclass(frozen=True)
class Certificates:
    """Paths of one generated set of PEM files (all in `directory`)."""

    directory: str
    ca_file: str
    """The CA certificate: a client's ``ca=``, a server's trust store."""
    ca_key: str
    server_cert: str
    server_key: str
    server_keystore: str
    """The server's key followed by its certificate (a PEM key store for ZooKeeper)."""
    client_cert: str
    """A client certificate signed by the CA: a client's ``certfile=``."""
    client_key: str
    """Its key (unencrypted): a client's ``keyfile=``."""
    client_identity: str
    """The identity a server gives a client with that certificate (its
    subject as ZooKeeper writes it): the id of an ``x509`` ACL entry."""


def _openssl() -> str:
    found = shutil.which("openssl")
    if found is None:
        raise OpenSSLNotInstalled(
            "TLS test servers need the `openssl` command to make certificates: "
            "apt-get install openssl (or run `make zookeeper` in the pykeeper checkout)")
    return found


def _run(argv: List[str], cwd: str) -> None:
    result = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} ... failed (status {result.returncode}):\n"
                           + result.stdout.decode("utf-8", "replace"))


def _san(names: Sequence[str]) -> str:
    entries = []
    for name in names:
        is_ip = name.replace(".", "").isdigit() or ":" in name
        entries.append(f"IP:{name}" if is_ip else f"DNS:{name}")
    return "subjectAltName=" + ",".join(entries)


_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_CLIENT_EXTENSIONS = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature",
                      "extendedKeyUsage=clientAuth"]


def _issue(tool: str, directory: str, role: str, cn: str, extensions: Sequence[str]) -> None:
    """`role`.pem and `role`-key.pem in `directory`: a certificate for CN=`cn`
    signed by the CA there."""
    def path(file: str) -> str:
        return os.path.join(directory, file)

    with open(path(f"{role}.ext"), "w") as f:
        f.write("\n".join(extensions) + "\n")
    _run([tool, "req", *_KEY, "-keyout", path(f"{role}-key.pem"), "-out", path(f"{role}.csr"),
          "-subj", f"/CN={cn}"], directory)
    _run([tool, "x509", "-req", "-in", path(f"{role}.csr"), "-CA", path("ca.pem"),
          "-CAkey", path("ca-key.pem"), "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
          "-out", path(f"{role}.pem"), "-days", _DAYS, "-extfile", path(f"{role}.ext")],
         directory)


def make_client_certificate(certificates: Certificates, common_name: str,
                            openssl: Optional[str] = None) -> Tuple[str, str, str]:
    """Another client certificate from the CA of `certificates`, for
    CN=`common_name` (letters, digits, '.', '_', '-'): returns (certfile,
    keyfile, its x509 identity "CN=...")."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", common_name):
        raise ValueError(f"common_name {common_name!r} must be letters, digits, '.', '_', '-'")
    role = f"client-{common_name}"
    _issue(openssl or _openssl(), certificates.directory, role, common_name, _CLIENT_EXTENSIONS)
    base = os.path.join(certificates.directory, role)
    return f"{base}.pem", f"{base}-key.pem", f"CN={common_name}"


def make_certificates(directory: str, server_names: Sequence[str] = DEFAULT_SERVER_NAMES,
                      name: str = "pykeeper test", openssl: Optional[str] = None) -> Certificates:
    """Make a CA, a server and a client certificate as PEM files in
    `directory` (created if missing); `server_names` (IP addresses or DNS
    names) go into the server certificate's subjectAltName.

    Raises OpenSSLNotInstalled without the ``openssl`` command."""
    tool = openssl or _openssl()
    os.makedirs(directory, exist_ok=True)
    directory = os.path.abspath(directory)

    def path(file: str) -> str:
        return os.path.join(directory, file)

    _run([tool, "req", "-x509", *_KEY, "-keyout", path("ca-key.pem"), "-out", path("ca.pem"),
          "-days", _DAYS, "-subj", f"/CN={name} CA",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], directory)
    for role, cn, extensions in (
        ("server", name.replace(" ", "-") + "-server", [
            _san(server_names), "basicConstraints=CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            # (ZooKeeper's own clients check clientAuth on the server's
            # certificate too, when it asks them for theirs.)
            "extendedKeyUsage=serverAuth,clientAuth"]),
        ("client", name.replace(" ", "-") + "-client", _CLIENT_EXTENSIONS),
    ):
        _issue(tool, directory, role, cn, extensions)
    with open(path("server-keystore.pem"), "w") as out:
        for part in ("server-key.pem", "server.pem"):
            with open(path(part)) as f:
                out.write(f.read())
    return Certificates(
        directory=directory, ca_file=path("ca.pem"), ca_key=path("ca-key.pem"),
        server_cert=path("server.pem"), server_key=path("server-key.pem"),
        server_keystore=path("server-keystore.pem"),
        client_cert=path("client.pem"), client_key=path("client-key.pem"),
        client_identity="CN=" + name.replace(" ", "-") + "-client")

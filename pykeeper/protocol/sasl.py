"""SASL for ZooKeeper sessions, sans-I/O: the mechanism interface the
protocol drives, and DIGEST-MD5 (RFC 2831) written here.

A mechanism is made per connection (ZooKeeper keeps a SASL identity per
connection, so every new connection authenticates again). The protocol
asks it for the token to send in answer to each server token, starting with
`respond(None)`, until it says it is `complete`. DIGEST-MD5 is the one
ZooKeeper's servers speak with JAAS `DigestLoginModule` users: the server
challenges, the client answers with a keyed digest of its password, and the
server proves in turn that it knows the password too (`rspauth`).

Nothing here keeps a password in a repr, a log line or an exception.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Dict, List, Optional, Protocol

__all__ = ["DigestMD5", "SaslError", "SaslMechanism", "parse_directives"]

# The Java client talks DIGEST-MD5 to this fixed server name, whatever the
# host is called, and the server's SaslServer expects it in digest-uri.
DIGEST_SERVER_NAME = "zk-sasl-md5"
DEFAULT_SERVICE = "zookeeper"


class SaslError(Exception):
    """The exchange cannot go on (a server token this client cannot accept,
    or a server that failed to prove itself). The message names the fault,
    never a credential."""


class SaslMechanism(Protocol):
    """One SASL exchange, on one connection."""

    name: str  # "DIGEST-MD5", "GSSAPI"
    who: str  # whom it authenticates, for messages: "user 'bob'"

    @property
    def complete(self) -> bool:
        """True once the client has finished (nothing more to send)."""
        ...

    def respond(self, challenge: Optional[bytes]) -> Optional[bytes]:
        """The token to send in answer to the server's `challenge` (None:
        the start, before the server said anything); None when there is
        nothing more to send. Raises SaslError."""
        ...


_DIRECTIVE = re.compile(rb'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s"]*))\s*(?:,|$)',
                        re.DOTALL)


def parse_directives(token: bytes) -> Dict[str, List[bytes]]:
    """RFC 2831 `name=value` pairs (values quoted or not, quotes and
    backslash escapes removed), each name with its values in order.
    Raises SaslError for a token that is not such a list."""
    found: Dict[str, List[bytes]] = {}
    pos = 0
    token = token.strip()
    while pos < len(token):
        match = _DIRECTIVE.match(token, pos)
        if match is None or match.end() == pos:
            raise SaslError(f"the server's DIGEST-MD5 challenge is malformed at byte {pos}")
        name = match.group(1).decode("ascii").lower()
        quoted = match.group(2)
        value = re.sub(rb"\\(.)", rb"\1", quoted) if quoted is not None else match.group(3)
        found.setdefault(name, []).append(value)
        pos = match.end()
    return found


def _quote(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _text(value: str, utf8: bool, what: str) -> bytes:
    """A name or password as RFC 2831 hashes it: ISO 8859-1 where every
    character fits (also under charset=utf-8), else UTF-8. SaslError (not
    naming the value, nor chained to an error that does) when it cannot be
    written."""
    encoded = _encoded(value, "iso-8859-1")
    if encoded is None and not utf8:
        raise SaslError(f"the {what} has characters outside ISO 8859-1, and the server did "
                        f"not offer charset=utf-8")
    if encoded is None:
        encoded = _encoded(value, "utf-8")
    if encoded is None:
        raise SaslError(f"the {what} is not valid Unicode text")
    return encoded


def _encoded(value: str, codec: str) -> Optional[bytes]:
    try:
        return value.encode(codec)
    except UnicodeEncodeError:
        return None


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


class DigestMD5:
    """The client side of DIGEST-MD5 with qop "auth" (authentication only:
    the connection is not wrapped). `cnonce` is for tests; by default each
    exchange draws its own."""

    name = "DIGEST-MD5"

    def __init__(self, username: str, password: str, *, service: str = DEFAULT_SERVICE,
                 server_name: str = DIGEST_SERVER_NAME, authorization_id: Optional[str] = None,
                 cnonce: Optional[str] = None) -> None:
        self.username = username
        self.who = f"user {username!r}"
        self._password = password
        self.digest_uri = f"{service}/{server_name}"
        self.authorization_id = authorization_id
        self._cnonce = cnonce
        self._expected_rspauth: Optional[bytes] = None
        self._step = 0
        self._complete = False

    def __repr__(self) -> str:
        return f"DigestMD5(username={self.username!r}, password=<hidden>)"

    @property
    def complete(self) -> bool:
        return self._complete

    def respond(self, challenge: Optional[bytes]) -> Optional[bytes]:
        step, self._step = self._step, self._step + 1
        if step == 0:
            # DIGEST-MD5 has no initial response: an empty token asks the
            # server for its challenge.
            return b""
        if step == 1:
            if not challenge:
                raise SaslError("the server sent no DIGEST-MD5 challenge (is SASL configured "
                                "on the server, with a JAAS 'Server' section?)")
            return self._answer(parse_directives(challenge))
        if step == 2 and self._expected_rspauth is not None:
            got = parse_directives(challenge or b"").get("rspauth")
            if not got or not secrets.compare_digest(got[0], self._expected_rspauth):
                raise SaslError("the server did not prove that it knows the password "
                                "(its DIGEST-MD5 rspauth is missing or wrong)")
            self._complete = True
            return None
        raise SaslError("the server went on after DIGEST-MD5 was complete")

    def _answer(self, directives: Dict[str, List[bytes]]) -> bytes:
        def one(name: str) -> Optional[bytes]:
            values = directives.get(name)
            if values is not None and len(values) > 1 and name != "realm":
                raise SaslError(f"the server's DIGEST-MD5 challenge repeats {name!r}")
            return values[0] if values else None

        nonce = one("nonce")
        if not nonce:
            raise SaslError("the server's DIGEST-MD5 challenge has no nonce")
        algorithm = one("algorithm")
        if algorithm != b"md5-sess":
            raise SaslError(f"the server's DIGEST-MD5 challenge asks for algorithm "
                            f"{algorithm!r}, not md5-sess")
        offered = [q.strip() for q in (one("qop") or b"auth").split(b",")]
        if b"auth" not in offered:
            raise SaslError(f"the server offers only quality of protection "
                            f"{b','.join(offered).decode('ascii', 'replace')!r}; this client "
                            f"does authentication only ('auth')")
        utf8 = one("charset") == b"utf-8"
        realms = directives.get("realm")
        realm = realms[0] if realms else b""
        cnonce = (self._cnonce or secrets.token_hex(16)).encode("ascii")
        nc = b"00000001"
        user = _text(self.username, utf8, "user name")
        a1 = _md5(user + b":" + realm + b":" + _text(self._password, utf8, "password")) \
            + b":" + nonce + b":" + cnonce
        authzid = None
        if self.authorization_id is not None:
            authzid = self.authorization_id.encode("utf-8")
            a1 += b":" + authzid
        uri = self.digest_uri.encode("utf-8")

        def digest(a2: bytes) -> bytes:
            parts = b":".join((_md5(a1).hex().encode(), nonce, nc, cnonce, b"auth",
                               _md5(a2).hex().encode()))
            return _md5(parts).hex().encode()

        self._expected_rspauth = digest(b":" + uri)
        # (On the wire the name is UTF-8 under charset=utf-8: ISO 8859-1 is
        # for the hash only.)
        fields = [b"username=" + _quote(self.username.encode("utf-8") if utf8 else user)]
        if realms:
            fields.append(b"realm=" + _quote(realm))
        fields += [b"nonce=" + _quote(nonce), b"cnonce=" + _quote(cnonce), b"nc=" + nc,
                   b"qop=auth", b"digest-uri=" + _quote(uri), b"maxbuf=65536",
                   b"response=" + digest(b"AUTHENTICATE:" + uri)]
        if utf8:
            fields.append(b"charset=utf-8")
        if authzid is not None:
            fields.append(b"authzid=" + _quote(authzid))
        return b",".join(fields)

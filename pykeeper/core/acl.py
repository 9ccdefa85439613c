"""Building ACLs: digest identities and entries with named permissions.

    acl = [pykeeper.make_digest_acl("app", "s3cret", all=True),
           pykeeper.make_sasl_acl("bob", read=True),          # a SASL login
           pykeeper.make_x509_acl("CN=app,O=corp", read=True), # a TLS client certificate
           pykeeper.make_ip_acl("10.0.0.0/8", read=True),
           pykeeper.make_acl("world", "anyone", read=True)]
    client.add_auth("digest", "app:s3cret")
    client.create("/app/secret", b"...", acl=acl)

A digest ACL names a user by "user:" + base64(sha1("user:password")); the
server computes the same from the `add_auth("digest", "user:password")`
credentials of a connection and compares. The password itself is never
stored in an ACL, and nothing here logs or repeats it.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from typing import Any, Dict, List

from ..protocol.records import ACL, Id, Permission

__all__ = ["acl_dicts", "make_acl", "make_digest_acl", "make_digest_acl_credential",
           "make_ip_acl", "make_sasl_acl", "make_x509_acl", "Permission"]


def make_digest_acl_credential(user: str, password: str) -> str:
    """The digest scheme's id of `user` with `password`: "user:<base64 sha1>"."""
    for name, value in (("user", user), ("password", password)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not user or ":" in user:
        raise ValueError("user must be a non-empty str without ':'")
    digest = hashlib.sha1(f"{user}:{password}".encode("utf-8")).digest()
    return f"{user}:{base64.b64encode(digest).decode('ascii')}"


def make_acl(scheme: str, credential: str, *, read: bool = False, write: bool = False,
             create: bool = False, delete: bool = False, admin: bool = False,
             all: bool = False) -> ACL:
    """An ACL entry granting the chosen permissions to `credential` in
    `scheme` ("world"/"anyone", "ip"/"10.0.0.0/8", "digest"/an id from
    make_digest_acl_credential, "auth"/""). ValueError if none is chosen."""
    if not isinstance(scheme, str) or not scheme:
        raise TypeError("scheme must be a non-empty str such as 'digest'")
    if not isinstance(credential, str):
        raise TypeError(f"credential must be a str, not {type(credential).__name__}")
    perms = Permission(0)
    for chosen, bit in ((read, Permission.READ), (write, Permission.WRITE),
                        (create, Permission.CREATE), (delete, Permission.DELETE),
                        (admin, Permission.ADMIN), (all, Permission.ALL)):
        if chosen:
            perms |= bit
    if not perms:
        raise ValueError("an ACL entry must grant at least one permission "
                         "(read, write, create, delete, admin or all)")
    return ACL(perms, Id(scheme, credential))


def make_digest_acl(user: str, password: str, *, read: bool = False, write: bool = False,
                    create: bool = False, delete: bool = False, admin: bool = False,
                    all: bool = False) -> ACL:
    """An ACL entry granting the chosen permissions to whoever authenticates
    with add_auth("digest", "user:password")."""
    return make_acl("digest", make_digest_acl_credential(user, password), read=read,
                    write=write, create=create, delete=delete, admin=admin, all=all)


def make_sasl_acl(user: str, *, read: bool = False, write: bool = False,
                  create: bool = False, delete: bool = False, admin: bool = False,
                  all: bool = False) -> ACL:
    """An ACL entry for whoever logs in with SASL as `user` (DIGEST-MD5's
    user name, or a Kerberos principal as the server maps it, by default
    "name@REALM" for users and "service/host@REALM" for services)."""
    _identity("user", user)
    return make_acl("sasl", user, read=read, write=write, create=create, delete=delete,
                    admin=admin, all=all)


def make_x509_acl(subject: str, *, read: bool = False, write: bool = False,
                  create: bool = False, delete: bool = False, admin: bool = False,
                  all: bool = False) -> ACL:
    """An ACL entry for clients whose TLS certificate has this subject, as
    the server writes it (RFC 2253, most specific first: "CN=app,O=corp")."""
    _identity("subject", subject)
    if "=" not in subject:
        raise ValueError(f"subject {subject!r} is not a distinguished name such as 'CN=app,O=corp'")
    return make_acl("x509", subject, read=read, write=write, create=create, delete=delete,
                    admin=admin, all=all)


def make_ip_acl(address: str, *, read: bool = False, write: bool = False,
                create: bool = False, delete: bool = False, admin: bool = False,
                all: bool = False) -> ACL:
    """An ACL entry for clients connecting from `address`: one address
    ("10.1.2.3") or a network ("10.0.0.0/8")."""
    _identity("address", address)
    try:
        ipaddress.ip_network(address, strict=False)
    except ValueError:
        raise ValueError(f"address {address!r} is not an IP address or network "
                         f"such as '10.0.0.0/8'") from None
    return make_acl("ip", address, read=read, write=write, create=create, delete=delete,
                    admin=admin, all=all)


def _identity(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")


def acl_dicts(acls: List[ACL]) -> List[Dict[str, Any]]:
    """ACL entries as {"perms", "scheme", "id"} dicts (the official binding's
    shape; also how a dump stores them)."""
    return [{"perms": int(acl.perms), "scheme": acl.id.scheme, "id": acl.id.id} for acl in acls]

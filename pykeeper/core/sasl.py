"""`sasl_options`: what a user gives the clients for SASL, checked once,
turned into the mechanism factory the protocol calls per connection.

    ZooKeeper(hosts, sasl_options={"mechanism": "DIGEST-MD5",
                                   "username": "bob", "password": "..."})
    ZooKeeper(hosts, sasl_options={"mechanism": "GSSAPI"})  # (kinit'ed, or a keytab)

The names are kazoo's. The factory keeps the password in a closure only:
no attribute, repr or message of the client shows it.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ..protocol.sasl import DEFAULT_SERVICE, DIGEST_SERVER_NAME, DigestMD5, SaslMechanism

__all__ = ["MECHANISMS", "OPTIONS", "sasl_factory"]

MECHANISMS = ("DIGEST-MD5", "GSSAPI")
# Every option, with the mechanisms it means something to.
OPTIONS: Dict[str, Tuple[str, ...]] = {
    "mechanism": MECHANISMS,
    "username": ("DIGEST-MD5",),
    "password": ("DIGEST-MD5",),
    # (ZooKeeper 3.8's servers take the authenticated name as the identity
    # whatever authorization id is asked for.)
    "authorization_id": ("DIGEST-MD5",),
    "service": MECHANISMS,
    "server_name": MECHANISMS,
    "principal": ("GSSAPI",),
}

MechanismFactory = Callable[[str], SaslMechanism]


def _text(options: Mapping[str, Any], name: str, required: bool = False) -> Optional[str]:
    value = options.get(name)
    if value is None:
        if required:
            raise ValueError(f"sasl_options needs {name!r} for {options['mechanism']}")
        return None
    if not isinstance(value, str):
        raise TypeError(f"sasl_options {name!r} must be a str, not {type(value).__name__}")
    if not value and name != "password":
        raise ValueError(f"sasl_options {name!r} must not be empty")
    if not _utf8(value):  # (a lone surrogate; the error must not hold the value)
        raise ValueError(f"sasl_options {name!r} is not valid Unicode text")
    return value


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def sasl_factory(options: Mapping[str, Any]) -> MechanismFactory:
    """Check `options` and return a function making a mechanism for a
    server host name. Raises TypeError or ValueError naming the fault (an
    unknown option or mechanism, a missing username or password), and
    ImportError, saying what to install, for GSSAPI without its library."""
    if not isinstance(options, Mapping):
        raise TypeError(f"sasl_options must be a dict, not {type(options).__name__}")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown sasl_options {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(OPTIONS)})")
    mechanism = options.get("mechanism")
    if not isinstance(mechanism, str) or mechanism.upper() not in MECHANISMS:
        raise ValueError(f"sasl_options 'mechanism' must be one of {', '.join(MECHANISMS)}, "
                         f"not {mechanism!r}")
    mechanism = mechanism.upper()
    options = dict(options, mechanism=mechanism)
    misplaced = sorted(name for name in options if mechanism not in OPTIONS[name])
    if misplaced:
        raise ValueError(f"sasl_options {', '.join(map(repr, misplaced))} mean nothing "
                         f"to {mechanism}")
    service = _text(options, "service") or DEFAULT_SERVICE
    server_name = _text(options, "server_name")
    if mechanism == "DIGEST-MD5":
        username = _text(options, "username", required=True)
        password = _text(options, "password", required=True)
        authorization_id = _text(options, "authorization_id")
        assert username is not None and password is not None
        digest_name = server_name or DIGEST_SERVER_NAME

        def digest_md5(host: str) -> SaslMechanism:
            return DigestMD5(username, password, service=service, server_name=digest_name,
                             authorization_id=authorization_id)
        return digest_md5
    from .gssapi_sasl import gssapi_factory  # (imports the optional library)
    return gssapi_factory(service, server_name, _text(options, "principal"))

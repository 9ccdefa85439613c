"""SASL GSSAPI (Kerberos V5, RFC 4752) through the `gssapi` package, the
optional extra `pykeeper[gssapi]`.

The client's credentials come from Kerberos itself: a ticket cache
(`kinit`, KRB5CCNAME) or a client keytab (KRB5_CLIENT_KTNAME); `principal`
picks one of them. The server is `service/host@REALM`, `host` being the name
the client connected to (or `server_name`), so connect by host name, as the
servers' principals are named. Getting a service ticket may ask the KDC:
that round trip happens on the client's I/O thread (holding the sync
client's lock, so calls from other threads wait for it) or its event loop.
"""

from __future__ import annotations

import importlib
import ipaddress
from typing import Any, Callable, Optional

from ..protocol.sasl import SaslError, SaslMechanism

__all__ = ["Gssapi", "gssapi_factory"]

_INSTALL = ("SASL GSSAPI needs the gssapi package: pip install 'pykeeper[gssapi]' "
            "(it builds against MIT Kerberos: on Debian, apt-get install libkrb5-dev)")
_NO_LAYER = 1  # (RFC 4752: the security layer "none")


def _import_gssapi() -> Any:
    try:
        return importlib.import_module("gssapi")
    except ImportError as exc:
        raise ImportError(_INSTALL) from exc


class Gssapi:
    """One GSSAPI exchange: the Kerberos context, then the security-layer
    message (always "no layer": ZooKeeper wraps nothing)."""

    name = "GSSAPI"

    def __init__(self, gssapi: Any, service: str, host: str, principal: Optional[str]) -> None:
        self.who = f"principal {principal!r}" if principal else "the default Kerberos principal"
        self._errors = gssapi.exceptions.GSSError
        self._final_sent = False
        self._complete = False
        try:
            target = gssapi.Name(f"{service}@{host}", gssapi.NameType.hostbased_service)
            creds = None
            if principal is not None:
                creds = gssapi.Credentials(
                    name=gssapi.Name(principal, gssapi.NameType.kerberos_principal),
                    usage="initiate")
            self._context = gssapi.SecurityContext(
                name=target, creds=creds, usage="initiate", mech=gssapi.MechType.kerberos,
                flags=(gssapi.RequirementFlag.mutual_authentication
                       | gssapi.RequirementFlag.integrity))
        except self._errors as exc:
            self._context = None
            self._setup_error: Optional[str] = f"{exc}"
        else:
            self._setup_error = None
        self._target = f"{service}/{host}"
        self._hint = ""
        try:
            ipaddress.ip_address(host.strip("[]"))
            self._hint = (f" (servers' principals name hosts, not addresses: connect by host "
                          f"name, or give sasl_options 'server_name')")
        except ValueError:
            pass

    def __repr__(self) -> str:
        return f"Gssapi({self.who}, server {self._target!r})"

    @property
    def complete(self) -> bool:
        return self._complete

    def respond(self, challenge: Optional[bytes]) -> Optional[bytes]:
        if self._setup_error is not None:
            raise SaslError(f"no Kerberos credentials for {self.who}: {self._setup_error}")
        if self._final_sent:
            self._complete = True
            return None
        context = self._context
        try:
            if not context.complete:
                token = context.step(challenge or None) if challenge is not None \
                    else context.step()
                return token or b""
            if not challenge:
                return b""
            layers = context.unwrap(challenge).message
            if len(layers) != 4 or not layers[0] & _NO_LAYER:
                raise SaslError("the server insists on a SASL security layer, which "
                                "ZooKeeper clients do not use")
            self._final_sent = True
            return bytes(context.wrap(bytes([_NO_LAYER, 0, 0, 0]), False).message)
        except self._errors as exc:
            raise SaslError(f"Kerberos refused the exchange with {self._target}: "
                            f"{exc}{self._hint}") from None


def gssapi_factory(service: str, server_name: Optional[str],
                   principal: Optional[str]) -> Callable[[str], SaslMechanism]:
    """Mechanisms for `service` on the host connected to (or `server_name`).
    Raises ImportError saying how to install the library when it is missing."""
    gssapi = _import_gssapi()

    def make(host: str) -> SaslMechanism:
        return Gssapi(gssapi, service, server_name or host, principal)
    return make

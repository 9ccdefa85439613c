"""Curator x-discovery's service instance, as JSON byte-compatible with
Curator's JsonInstanceSerializer (Jackson's default ObjectMapper).

    {"name":"api","id":"5f0c...","address":"10.0.0.3","port":8080,"sslPort":null,
     "payload":null,"registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC",
     "uriSpec":{"parts":[{"value":"scheme","variable":true},{"value":"://","variable":false}]}}

What Jackson does, and so what `ServiceInstance.to_json()` does: the fields
in the Java class's declaration order (name, id, address, port, sslPort,
payload, registrationTimeUTC, serviceType, uriSpec, then enabled), no
whitespace, null written as `null`, strings as UTF-8 with only `"`, `\\`
and control characters escaped (`\\n`, `\\t`, ... else `\\u00XX`, upper-case
hex), doubles as Java's Double.toString writes them (`1.0`, `1.0E7`).
Curator's default serializer is in "compatible" mode: it leaves `enabled`
out (readers take a missing `enabled` as true); `to_json()` does the same
unless the instance is disabled (Curator would lose that; we write
`"enabled":false`), and `to_json(compatible=False)` always writes it.

A payload is any JSON value, kept as parsed. Curator's payload getter is
annotated `@JsonTypeInfo(use=CLASS)`: a Java object payload is written with
its class name inside (`{"@class":"com.example.Details","host":"a"}`; a
Java list or Long as `["java.util.ArrayList",[...]]`), and read back as that
class. We keep such a payload exactly as parsed (the "@class" key, or the
two-element list, stays in it), so writing an instance read from a Java
service gives Java the same payload back. A payload written from Python
without "@class" is read by Java as its default, plain maps and lists.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple

__all__ = ["SERVICE_TYPES", "ServiceInstance", "UriPart", "UriSpec"]

SERVICE_TYPES = ("DYNAMIC", "STATIC", "PERMANENT", "DYNAMIC_SEQUENTIAL")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}
_TO_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


# -- JSON as Jackson writes it -------------------------------------------------------------

def _string(text: str) -> str:
    return '"' + _TO_ESCAPE.sub(
        lambda m: _ESCAPES.get(m.group(), "\\u%04X" % ord(m.group())), text) + '"'


def _double(value: float) -> str:
    """`value` as Java's Double.toString (the shortest digits that read back,
    as repr finds them; decimal from 10^-3 to 10^7, else d.dddE±n)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"JSON has no NaN or Infinity ({value!r})")
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple))
    stripped = digits.rstrip("0") or "0"
    exponent = int(exponent) + len(digits) - len(stripped)
    digits = stripped
    point = len(digits) + exponent  # digits before the decimal point
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}.0"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


def _value(value: Any, where: str) -> str:
    """`value` (None, bool, int, float, str, list, tuple, dict with str keys) as JSON."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _double(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(v, where) for v in value) + "]"
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"{where}: a JSON object's keys are str, not {key!r}")
        return "{" + ",".join(f"{_string(k)}:{_value(v, where)}" for k, v in value.items()) + "}"
    raise TypeError(f"{where}: {type(value).__name__} is not a JSON value ({value!r})")


def _text(value: Any) -> str:
    """`value` as Java's toString writes it (what UriSpec.build appends)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        return _double(value)
    return str(value)


def _object(fields: List[Tuple[str, str]]) -> str:
    return "{" + ",".join(f'"{name}":{text}' for name, text in fields) + "}"


# -- the URI template --------------------------------------------------------------------

@dataclass(frozen=True)
class UriPart:
    """A piece of a UriSpec: literal text, or (variable) a name to fill in."""

    value: str
    variable: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not isinstance(self.variable, bool):
            raise TypeError(f"a uri part is (str, bool), not ({self.value!r}, {self.variable!r})")


@dataclass(frozen=True)
class UriSpec:
    """Curator's UriSpec: a template such as "{scheme}://{address}:{port}/api"
    (`UriSpec.parse`), filled in by `build` from an instance and variables."""

    parts: Tuple[UriPart, ...] = ()

    @classmethod
    def parse(cls, raw: str) -> "UriSpec":
        """The spec `raw` describes; ValueError for unbalanced braces (as
        Curator: "{[}" and "{]}" write literal braces)."""
        if not isinstance(raw, str):
            raise TypeError(f"a uri spec is a str, not {raw!r}")
        parts: List[UriPart] = []
        inside = False
        for token in re.split(r"([{}])", raw):
            if token == "{":
                if inside:
                    raise ValueError(f"uri spec {raw!r}: {{ is not allowed inside a variable")
                inside = True
            elif token == "}":
                if not inside:
                    raise ValueError(f"uri spec {raw!r}: }} must be preceded by {{")
                inside = False
            elif token:
                parts.append(UriPart(token.strip() if inside else token, inside))
        if inside:
            raise ValueError(f"uri spec {raw!r}: the last variable is not closed (expected }})")
        return cls(tuple(parts))

    def build(self, instance: Optional["ServiceInstance"] = None,
              variables: Optional[Mapping[str, Any]] = None) -> str:
        """The URI: each variable from `variables`, else from `instance`
        (scheme, name, id, address, port, ssl-port, registration-time-utc,
        service-type; scheme is "https" if it has an ssl port, else "http"),
        "[" and "]" as braces; an unknown variable is left out."""
        known: Dict[str, Any] = {"[": "{", "]": "}", "scheme": "http"}
        if instance is not None:
            known.update({
                "name": instance.name, "id": instance.id, "address": instance.address or "",
                "port": "" if instance.port is None else instance.port,
                "ssl-port": "" if instance.ssl_port is None else instance.ssl_port,
                "registration-time-utc": instance.registration_time_utc,
                "service-type": (instance.service_type or "").lower(),
            })
            if instance.ssl_port is not None:
                known["scheme"] = "https"
        known.update(variables or {})
        out = []
        for part in self.parts:
            if not part.variable:
                out.append(part.value)
            elif known.get(part.value) is not None:
                value = known[part.value]
                out.append(_text(value))
        return "".join(out)

    def _json(self) -> str:
        parts = ",".join(_object([("value", _string(p.value)),
                                  ("variable", "true" if p.variable else "false")])
                         for p in self.parts)
        return _object([("parts", f"[{parts}]")])


# -- the instance ------------------------------------------------------------------------

def _optional_int(value: Any, what: str) -> Optional[int]:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"{what} must be an int or None, not {value!r}")
    return value


@dataclass(frozen=True)
class ServiceInstance:
    """One registered instance of a service (Curator's ServiceInstance).
    `payload` is any JSON value (see the module docstring for Java's)."""

    name: str
    id: str
    address: Optional[str] = None
    port: Optional[int] = None
    ssl_port: Optional[int] = None
    payload: Any = None
    registration_time_utc: int = 0  # milliseconds since 1970
    service_type: Optional[str] = "DYNAMIC"
    uri_spec: Optional[UriSpec] = None
    enabled: bool = True

    def __post_init__(self) -> None:
        for what in ("name", "id"):
            if not isinstance(getattr(self, what), str):
                raise TypeError(f"{what} must be a str, not {getattr(self, what)!r}")
        if self.address is not None and not isinstance(self.address, str):
            raise TypeError(f"address must be a str or None, not {self.address!r}")
        _optional_int(self.port, "port")
        _optional_int(self.ssl_port, "ssl_port")
        if _optional_int(self.registration_time_utc, "registration_time_utc") is None:
            raise TypeError("registration_time_utc must be an int")
        if self.service_type is not None and self.service_type not in SERVICE_TYPES:
            raise ValueError(f"service_type must be one of {', '.join(SERVICE_TYPES)}, "
                             f"not {self.service_type!r}")
        if self.uri_spec is not None and not isinstance(self.uri_spec, UriSpec):
            raise TypeError(f"uri_spec must be a UriSpec or None, not {self.uri_spec!r}")
        if not isinstance(self.enabled, bool):
            raise TypeError(f"enabled must be a bool, not {self.enabled!r}")

    def build_uri_spec(self, variables: Optional[Mapping[str, Any]] = None) -> str:
        """The instance's URI from its uri_spec ("" if it has none); see UriSpec.build."""
        return "" if self.uri_spec is None else self.uri_spec.build(self, variables)

    def uri(self, **variables: Any) -> str:
        """build_uri_spec with keyword variables (`instance.uri(scheme="grpc")`)."""
        return self.build_uri_spec(variables)

    def to_json(self, compatible: bool = True) -> bytes:
        """The instance as Curator's JsonInstanceSerializer writes it (see the
        module docstring); TypeError/ValueError if the payload is not JSON."""
        fields = [
            ("name", _string(self.name)), ("id", _string(self.id)),
            ("address", _value(self.address, "address")),
            ("port", _value(self.port, "port")), ("sslPort", _value(self.ssl_port, "ssl_port")),
            ("payload", _value(self.payload, "payload")),
            ("registrationTimeUTC", str(self.registration_time_utc)),
            ("serviceType", _value(self.service_type, "service_type")),
            ("uriSpec", "null" if self.uri_spec is None else self.uri_spec._json()),
        ]
        if not compatible or not self.enabled:
            fields.append(("enabled", "true" if self.enabled else "false"))
        try:
            return _object(fields).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"the instance has text that is not UTF-8: {exc}") from None

    @classmethod
    def from_json(cls, data: bytes) -> "ServiceInstance":
        """The instance in `data` (as Curator writes it; unknown fields are
        ignored, missing ones take Curator's defaults). ValueError if it is
        not a JSON object describing an instance."""
        try:
            raw = json.loads(data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a service instance (not JSON: {exc})") from None
        if not isinstance(raw, dict):
            raise ValueError(f"not a service instance (not a JSON object): {raw!r}")
        spec = raw.get("uriSpec")
        try:
            uri_spec = None
            if spec is not None:
                uri_spec = UriSpec(tuple(UriPart(p.get("value", ""), bool(p.get("variable")))
                                         for p in spec.get("parts") or ()))
            return cls(
                name=raw.get("name", ""), id=raw.get("id", ""), address=raw.get("address"),
                port=raw.get("port"), ssl_port=raw.get("sslPort"), payload=raw.get("payload"),
                registration_time_utc=raw.get("registrationTimeUTC", 0),
                service_type=raw.get("serviceType", "DYNAMIC"), uri_spec=uri_spec,
                enabled=raw.get("enabled", True))
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a service instance: {exc}") from None

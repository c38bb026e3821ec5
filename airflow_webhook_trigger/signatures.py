"""Verify webhook senders' signatures against the raw request body, in constant time.

Anyone who can reach a webhook URL could otherwise trigger a DAG run, so a declaration may name a
signature scheme: we recompute the sender's HMAC over the *raw bytes* received (re-serialised JSON
would differ) and compare with ``hmac.compare_digest`` so timing tells a forger nothing. Stdlib
only, so the web server, CLI and tests need no Airflow. Secret values never appear in messages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, meta

PRESETS: tuple[str, ...] = ("github", "gitlab", "stripe", "slack", "standard", "shopify")
_TYPES = PRESETS + ("hmac",)
_TIMED_PRESETS = frozenset({"stripe", "slack", "standard"})
_ALGORITHMS = ("sha1", "sha256", "sha512")
_ENCODINGS = ("hex", "base64")
_DEFAULT_TOLERANCE = 300
_HMAC_KEYS = ("algorithm", "header", "encoding", "prefix", "timestampHeader", "tolerance")
_DELIVERY_HEADERS = {"github": ("x-github-delivery",), "standard": ("webhook-id", "svix-id"),
                     "gitlab": ("idempotency-key", "x-gitlab-event-uuid"), "shopify": ("x-shopify-webhook-id",)}
_TEMPLATE_RULE = ("must be a template such as \"{{ secret('NAME') }}\" "
                  "so the secret stays out of the DAG file")


class SignatureError(ValueError):
    """A ``signature`` declaration is invalid; the message starts with the offending field."""


@dataclass(frozen=True)
class SignatureSpec:
    """How one webhook's sender signs its requests. Holds the secret's template, never its value."""

    type: str  # one of PRESETS or "hmac"
    secret: str  # template text as declared, e.g. "{{ secret('GH_SECRET') }}" (the first, for a list)
    algorithm: str = "sha256"
    header: str | None = None  # lower-cased
    encoding: str = "hex"  # hex | base64
    prefix: str = ""
    timestamp_header: str | None = None  # lower-cased
    tolerance: int | None = None  # seconds
    more_secrets: tuple[str, ...] = ()  # the rest of a list of secrets (rotation: any one may sign)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret template: a request signed with any of them passes."""
        return (self.secret, *self.more_secrets)


def parse_signature(raw: Mapping[str, Any]) -> SignatureSpec:
    """Read the `signature` mapping of a webhook declaration (Kestra-style camelCase keys: type,
    secret, algorithm, header, encoding, prefix, timestampHeader, tolerance). Errors name the field.
    """
    if not isinstance(raw, Mapping):
        raise SignatureError("signature: must be a mapping with at least 'type' and 'secret'")
    kind = raw.get("type")
    if kind not in _TYPES:
        raise SignatureError(f"signature.type: must be one of {', '.join(_TYPES)}")
    allowed = {"type", "secret", *(_HMAC_KEYS if kind == "hmac" else ())}
    if kind in _TIMED_PRESETS:  # presets fix the scheme; only the replay window may change
        allowed.add("tolerance")
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise SignatureError(f"signature.{unknown[0]}: unknown key for type {kind!r} (unknown: "
                             f"{', '.join(unknown)}; allowed: {', '.join(sorted(allowed))})")
    secret, more = _secrets(raw.get("secret"))
    if kind != "hmac":
        default = _DEFAULT_TOLERANCE if kind in _TIMED_PRESETS else None
        return SignatureSpec(kind, secret, tolerance=_option(raw, "tolerance", default), more_secrets=more)
    header = _option(raw, "header")
    if header is None:
        raise SignatureError("signature.header: required for type 'hmac'; must be a header name")
    ts_header = _option(raw, "timestampHeader")
    if ts_header is None and raw.get("tolerance") is not None:
        raise SignatureError("signature.tolerance: only applies together with timestampHeader")
    return SignatureSpec(
        "hmac", secret,
        algorithm=_option(raw, "algorithm", "sha256"),
        header=header.strip().lower(),
        encoding=_option(raw, "encoding", "hex"),
        prefix=_option(raw, "prefix", ""),
        timestamp_header=ts_header and ts_header.strip().lower(),
        tolerance=_option(raw, "tolerance", _DEFAULT_TOLERANCE if ts_header else None),
        more_secrets=more,
    )


def _secrets(value: Any) -> tuple[str, tuple[str, ...]]:
    """``secret``: one template, or a non-empty list of templates while a secret is rotated
    (old and new both valid until every sender signs with the new one)."""
    templates = value if isinstance(value, list) and value else [value]
    for i, secret in enumerate(templates):
        where = "signature.secret" + (f"[{i}]" if isinstance(value, list) else "")
        if not isinstance(secret, str) or not secret.strip():
            raise SignatureError(f"{where}: required; {_TEMPLATE_RULE} (or a list of such templates)")
        if not reads_a_secret(secret):  # a literal secret in a DAG file would end up in git and logs
            raise SignatureError(f"{where}: {_TEMPLATE_RULE}")
    return templates[0], tuple(templates[1:])


def reads_a_secret(template: str) -> bool:
    """Whether the template reads ``secret()``, ``var`` or ``conn``: ``{{ 'hunter2' }}`` is a
    template too, but still a literal secret. Jinja (not Airflow) only parses it, lazily."""
    start = template.find("{{")
    if start < 0 or template.find("}}", start + 2) < 0:
        return False
    try:
        names = meta.find_undeclared_variables(Environment().parse(template))
    except TemplateSyntaxError:
        return False
    return bool(names & {"secret", "var", "conn"})


_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {  # optional key -> (valid?, rule)
    "algorithm": (lambda v: v in _ALGORITHMS, f"must be one of {', '.join(_ALGORITHMS)}"),
    "encoding": (lambda v: v in _ENCODINGS, f"must be one of {', '.join(_ENCODINGS)}"),
    "header": (lambda v: isinstance(v, str) and bool(v.strip()), "must be a non-blank header name"),
    "prefix": (lambda v: isinstance(v, str), "must be a string"),
    # type() rather than isinstance: bool is an int subclass, and True is not "1 second"
    "tolerance": (lambda v: type(v) is int and v > 0, "must be a positive number of seconds"),
}
_RULES["timestampHeader"] = _RULES["header"]


def _option(raw: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """An optional key: absent or null gives ``default``; anything else must follow its rule."""
    value = raw.get(key)
    if value is None:
        return default
    valid, rule = _RULES[key]
    if not valid(value):
        raise SignatureError(f"signature.{key}: {rule}")
    return value


def _utf8(text: str) -> bytes:
    """Lossless and never raises, even for lone surrogates smuggled into header values."""
    return text.encode("utf-8", "surrogatepass")


def _first(headers: Mapping[str, Sequence[str]], name: str) -> str | None:
    """First value of a lower-cased header; tolerates a bare string instead of a list."""
    values = headers.get(name) if isinstance(headers, Mapping) else None
    if isinstance(values, str):
        return values
    value = values[0] if isinstance(values, Sequence) and values else None
    return value if isinstance(value, str) else None


def _mac(key: bytes, message: bytes, algorithm: str = "sha256", encoding: str = "hex") -> str:
    digest = hmac.new(key, message, getattr(hashlib, algorithm)).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")


def _matches(candidates: Sequence[str | None], expected: str) -> bool:
    """Any candidate may match (key rotation); each is compared in constant time, no early exit."""
    matched = False
    for candidate in candidates:
        if candidate is not None:
            matched |= hmac.compare_digest(_utf8(candidate), _utf8(expected))
    return matched


def _fresh(timestamp: str | None, now: float, tolerance: int | None) -> bool:
    """Replay protection: an integer unix timestamp within ``tolerance`` seconds either way."""
    if not isinstance(timestamp, str) or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    return len(timestamp) <= 12 and abs(now - int(timestamp)) <= (tolerance or _DEFAULT_TOLERANCE)


def _standard_key(secret: str) -> bytes:
    """Standard Webhooks keys are ``whsec_<base64>``; fall back to the raw text if not base64."""
    encoded = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        return base64.b64decode(encoded, validate=True) or _utf8(secret)
    except (binascii.Error, ValueError):
        return _utf8(secret)


def _expected(spec: SignatureSpec, secret: str, body: bytes, timestamp: str = "",
              msg_id: str = "", algorithm: str = "sha256") -> str:
    """The exact signature text a sender puts in its header; shared by sign and verify."""
    key, kind = _utf8(secret), spec.type
    if kind == "github":
        return f"{algorithm}=" + _mac(key, body, algorithm)
    if kind == "gitlab":
        return secret
    if kind == "stripe":
        return _mac(key, f"{timestamp}.".encode() + body)
    if kind == "slack":
        return "v0=" + _mac(key, f"v0:{timestamp}:".encode() + body)
    if kind == "standard":
        signed = _utf8(f"{msg_id}.{timestamp}.") + body
        return "v1," + _mac(_standard_key(secret), signed, encoding="base64")
    if kind == "shopify":
        return _mac(key, body, encoding="base64")
    complete = spec.header and spec.algorithm in _ALGORITHMS and spec.encoding in _ENCODINGS
    if kind != "hmac" or not complete:
        raise ValueError(f"unsupported signature type {kind!r} or incomplete hmac spec")
    payload = f"{timestamp}.".encode() + body if spec.timestamp_header else body
    return spec.prefix + _mac(key, payload, spec.algorithm, spec.encoding)


def verify_signature(spec: SignatureSpec, secret: str, body: bytes,
                     headers: Mapping[str, Sequence[str]], *, now: float | None = None) -> bool:
    """True only for a valid signature. Fails closed: malformed input gives False, never an error.

    ``headers`` maps lower-cased names to lists of values; ``secret`` is the rendered value.
    """
    try:
        kind = spec.type
        if kind not in _TYPES or not isinstance(body, bytes) or not isinstance(secret, str):
            return False
        if not secret:  # an empty secret would make every signature trivially forgeable
            return False
        now = time.time() if now is None else float(now)
        get = lambda name: _first(headers, name)  # noqa: E731
        timestamp, msg_id, algorithm = None, "", "sha256"
        if kind == "github":
            candidates = [get("x-hub-signature-256")]
            if candidates[0] is None:  # legacy SHA-1 only when the SHA-256 header is absent
                candidates, algorithm = [get("x-hub-signature")], "sha1"
        elif kind == "gitlab":
            candidates = [get("x-gitlab-token")]
        elif kind == "shopify":
            candidates = [get("x-shopify-hmac-sha256")]
        elif kind == "slack":
            candidates, timestamp = [get("x-slack-signature")], get("x-slack-request-timestamp")
        elif kind == "stripe":
            parts = (get("stripe-signature") or "").split(",")
            pairs = [part.strip().partition("=") for part in parts]
            candidates = [value for name, _, value in pairs if name == "v1"]
            timestamp = next((value for name, _, value in pairs if name == "t"), None)
        elif kind == "standard":
            prefix = "webhook-" if get("webhook-signature") is not None else "svix-"
            candidates, msg_id = (get(prefix + "signature") or "").split(), get(prefix + "id") or ""
            timestamp = get(prefix + "timestamp") if msg_id else None  # no id: fail the time check
        else:
            value = get((spec.header or "").lower())
            if value is not None and spec.encoding == "hex":  # senders differ in hex letter case
                value = value[: len(spec.prefix)] + value[len(spec.prefix):].lower()
            candidates, timestamp = [value], get((spec.timestamp_header or "").lower())
        timed = kind in _TIMED_PRESETS or (kind == "hmac" and spec.timestamp_header)
        if timed and not _fresh(timestamp, now, spec.tolerance):
            return False
        expected = _expected(spec, secret, body, timestamp or "", msg_id, algorithm)
        return _matches(candidates, expected)
    except Exception:  # defence in depth: a junk request must be a 401, never a 500
        return False


def sign(spec: SignatureSpec, secret: str, body: bytes, *, now: float | None = None,
         delivery_id: str | None = None) -> dict[str, str]:
    """Headers (lower-cased names) a real sender would send; round-trips with verify_signature.

    Schemes that carry a delivery id in a header get ``delivery_id`` (a fresh uuid4 when None).
    """
    timestamp = str(int(time.time() if now is None else now))
    ident = delivery_id or str(uuid.uuid4())
    expected = _expected(spec, secret, body, timestamp, ident)
    if spec.type == "github":
        legacy = _expected(spec, secret, body, algorithm="sha1")  # GitHub still sends both
        return {"x-hub-signature-256": expected, "x-hub-signature": legacy,
                "x-github-delivery": ident}
    if spec.type == "gitlab":
        return {"x-gitlab-token": expected, "x-gitlab-event-uuid": ident}
    if spec.type == "stripe":
        return {"stripe-signature": f"t={timestamp},v1={expected}"}
    if spec.type == "slack":
        return {"x-slack-signature": expected, "x-slack-request-timestamp": timestamp}
    if spec.type == "standard":
        return {"webhook-id": ident, "webhook-timestamp": timestamp, "webhook-signature": expected}
    if spec.type == "shopify":
        return {"x-shopify-hmac-sha256": expected, "x-shopify-webhook-id": ident}
    headers = {str(spec.header).lower(): expected}
    if spec.timestamp_header:
        headers[spec.timestamp_header.lower()] = timestamp
    return headers


def preset_delivery_id(spec_type: str, headers: Mapping[str, Sequence[str]],
                       body_json: Any) -> str | None:
    """The provider's own delivery id, so redeliveries can be de-duplicated (None if unknown)."""
    if spec_type == "stripe":
        ident = body_json.get("id") if isinstance(body_json, Mapping) else None
        return ident.strip() if isinstance(ident, str) and ident.strip() else None
    for name in _DELIVERY_HEADERS.get(spec_type, ()):
        value = _first(headers, name)
        if value and value.strip():
            return value.strip()
    return None

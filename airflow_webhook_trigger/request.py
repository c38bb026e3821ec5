"""A webhook request as the core sees it, and the ``trigger.*`` variables made from it.

The HTTP layer (Flask, or anything else) turns its request into a ``WebhookRequest``: plain
bytes and strings, no framework objects, so everything below it can be tested without a server.
``trigger_variables`` then gives what conditions, inputs and the run's conf see, with Kestra's
rules for the body: a JSON object or array is parsed, anything else stays the exact text.
"""

from __future__ import annotations

import base64
import codecs
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

from airflow_webhook_trigger import config, storable
from airflow_webhook_trigger.form_data import parse_multipart

__all__ = ["Headers", "WebhookRequest", "trigger_variables", "parse_body", "multi_dict"]


class Headers(dict):
    """Header name -> list of values; names are stored lower-cased and looked up in any case.

    A ``dict`` subclass so it serialises to JSON as is and Jinja's sandbox treats it as data.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        for name, value in pairs:
            self.setdefault(name.lower(), []).append(value)

    def __getitem__(self, name: str) -> list[str]:
        return super().__getitem__(name.lower() if isinstance(name, str) else name)

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name.lower() if isinstance(name, str) else name)

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower() if isinstance(name, str) else name, default)

    def first(self, name: str) -> str | None:
        """The first value of a header, or None."""
        values = self.get(name)
        return values[0] if values else None


def media_type(headers: Headers) -> str:
    """The Content-Type's media type, lower-cased, without parameters (``""`` when absent)."""
    value = headers.first("content-type") or ""
    return value.split(";", 1)[0].strip().lower()


def multi_dict(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """``[("age", "12"), ("age", "13")]`` -> ``{"age": ["12", "13"]}`` (Kestra's lists of values)."""
    result: dict[str, list[str]] = {}
    for name, value in pairs:
        result.setdefault(name, []).append(value)
    return result


@dataclass(frozen=True)
class WebhookRequest:
    """One HTTP request to a webhook URL, independent of any web framework."""

    method: str
    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    received_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    host_url: str = ""  # scheme://host[:port]/ the request came to, for links in answers
    # set when the client has gone (a threading.Event from the HTTP layer): a wait stops for nobody
    client_gone: Any = field(default=None, compare=False, repr=False)
    # called before a long wait, so the request stops counting among the HTTP layer's active ones
    step_aside: Any = field(default=None, compare=False, repr=False)

    @cached_property
    def header_map(self) -> Headers:
        """The headers parsed once per request, for everything that reads them."""
        return Headers(self.headers)

    @property
    def content_type(self) -> str:
        """The media type, lower-cased, without parameters (``""`` when absent)."""
        return media_type(self.header_map)

    @classmethod
    def from_query_string(cls, method: str, query_string: str, **kwargs: Any) -> WebhookRequest:
        return cls(method=method, query=tuple(parse_qsl(query_string, keep_blank_values=True)), **kwargs)


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON: PostgreSQL refuses them in the run's conf, so such a
    # body is kept as text rather than half-parsed.
    raise ValueError(name)


_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "application/yaml",
               "application/x-yaml", "application/csv", "application/x-ndjson", "application/graphql")


def _is_text_type(content_type: str) -> bool:
    return (
        not content_type
        or content_type.startswith(_TEXT_TYPES)
        or content_type.endswith(("+json", "+xml", "+yaml"))
        or content_type == "application/x-www-form-urlencoded"
    )


def charset(headers: Headers) -> str | None:
    """The Content-Type's ``charset`` parameter (unquoted, lower-cased), or None."""
    value = headers.first("content-type") or ""
    for parameter in value.split(";")[1:]:
        name, _, given = parameter.partition("=")
        if name.strip().lower() == "charset":
            return given.strip().strip('"').strip().lower() or None
    return None


def decode_text(body: bytes, encoding: str | None) -> str | None:
    """The body as text in its charset (UTF-8 when none is given); None when the charset is
    unknown or the bytes are not text in it: then the body is binary."""
    try:
        return body.decode(codecs.lookup(encoding or "utf-8").name)
    except (LookupError, UnicodeDecodeError):
        return None


def parse_body(body: bytes, content_type: str = "", encoding: str | None = None) -> Any:
    """Kestra's body rule: JSON object, else JSON array, else the text as is; empty -> None.

    Text is decoded with the Content-Type's charset (``encoding``; UTF-8 when none). A body that
    is not text (by its content type, an unknown charset, or bytes that are not text in it) is
    given as the base64 of its bytes, so binary payloads reach the run intact and the conf stays JSON.
    """
    if not body:
        return None
    if not _is_text_type(content_type):
        return base64.b64encode(body).decode("ascii")
    text = decode_text(body, encoding)
    if text is None:
        return base64.b64encode(body).decode("ascii")
    if "\x00" in text:  # no database stores NUL in text: such a body is binary
        return base64.b64encode(body).decode("ascii")
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            value = json.loads(text, parse_constant=_reject_constant, parse_float=storable.finite_float)
        except (ValueError, RecursionError):
            return text
        # valid JSON Airflow cannot hold (\u0000, a lone surrogate, deep nesting) stays its text
        if isinstance(value, (dict, list)) and (storable.text_fits(text) or storable.fits(value)):
            return value
    return text


def _known_charset(encoding: str | None) -> str:
    try:
        return codecs.lookup(encoding or "utf-8").name
    except LookupError:
        return "utf-8"


def trigger_variables(request: WebhookRequest, fetch_type: str = "FETCH") -> dict[str, Any]:
    """``trigger.*`` for templates: body, headers, parameters, date, and form fields if any.

    ``fetch_type`` (Kestra's ``fetchType``): ``FETCH`` reads the body; ``NONE`` drops it and
    ``STORE`` leaves it for storage (``body`` null, no form fields: the run reads ``uri``).
    Raises ``form_data.BodyRefused`` (413 or 400) for a multipart body it cannot pass on.
    """
    headers = request.header_map
    content_type = media_type(headers)
    fetch = fetch_type == "FETCH"
    variables: dict[str, Any] = {
        "body": parse_body(request.body, content_type, charset(headers)) if fetch else None,
        "headers": headers,
        "parameters": multi_dict(request.query),
        "date": request.received_at.isoformat(),
        "method": request.method,
    }
    if fetch_type == "STORE":
        variables["uri"] = None  # set once the body is stored (dispatch), None when there is none
    if not fetch:
        return variables
    if content_type == "application/x-www-form-urlencoded" and request.body:
        text = request.body.decode(_known_charset(charset(headers)), errors="replace")
        variables["formFields"] = multi_dict(parse_qsl(text, keep_blank_values=True))
    elif content_type == "multipart/form-data":
        # fields and files are given parsed; the raw body (files included) is not repeated
        header = headers.first("content-type") or ""
        fields, parts = parse_multipart(request.body, header, config.get_int("max_part_size"))
        variables.update(body=None, formFields=fields, parts=parts)
    return variables

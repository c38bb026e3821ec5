"""``respond`` rules: answer a request at once with a rendered body, and create no run.

Why: some senders check a URL before they deliver anything, and want an echo within seconds:
Slack's Events API sends ``{"type": "url_verification", "challenge": "..."}`` and needs the
challenge back within 3 s; Microsoft Graph, Meta and others have their own handshakes (Kestra
issues #8971, #14272). ``wait`` + ``returnOutputs`` can echo a value too, but only once a run
has been scheduled, executed and finished: several seconds on a healthy Airflow, and a run in
the DAG's history for every handshake. A ``respond`` rule answers from the request alone::

    respond:
      - conditions:
          - type: ExpressionCondition
            expression: "{{ trigger.body.type == 'url_verification' }}"
        body: "{{ trigger.body.challenge }}"
        contentType: text/plain      # or application/json; default: text/plain for a template
        code: 200                    # default 200
        headers:                     # optional response headers, each a template (Kestra #8971)
          X-Hook-Secret: "{{ trigger.headers['x-hook-secret'][0] }}"

Rules are tried in order after the signature and rate limit (so only a genuine sender gets an
answer) and before the trigger's ``conditions``; the first whose conditions all hold answers.
``body`` is one template, or (for JSON) a mapping of names to templates; it sees what
conditions see (``trigger.*``, ``flow.*``, ``secret()``...). A body that fails to render answers
422 and names the rule. ``headers`` may not set what the server or the HTTP framing owns
(``Content-Length``, ``Transfer-Encoding``, ``Connection`` and the other hop-by-hop headers,
``Content-Type``: use ``contentType``) nor ``Set-Cookie`` (a webhook sender keeps no session,
and a cookie on Airflow's domain is not the rule's to set): refused when the DAG is parsed.
A value that renders with a line break answers 422 too (it would split the header).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_webhook_trigger.conditions import Condition, evaluate, parse_conditions
from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.templating import TemplateRenderError, check_syntax, render, render_value

__all__ = ["ImmediateResponse", "parse_responses", "matching_response", "render_body", "render_headers"]

CONTENT_TYPES = ("text/plain", "application/json")
_PROPERTIES = ("conditions", "body", "contentType", "code", "headers")
REFUSED_HEADERS = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
    "trailer", "transfer-encoding", "upgrade", "content-length", "content-type", "content-encoding",
    "host", "date", "server", "set-cookie", "set-cookie2",
})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 field-name


@dataclass(frozen=True)
class ImmediateResponse:
    """One ``respond`` rule, as declared (templates unrendered)."""

    conditions: tuple[Condition, ...]
    body: str | Mapping[str, str] | None = None
    content_type: str = "text/plain"
    code: int = 200
    headers: tuple[tuple[str, str], ...] = ()  # (name, template)


def _headers(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise WebhookDeclarationError(where, "must map header names to templates")
    headers = []
    for name, template in value.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise WebhookDeclarationError(f"{where}.{name}", "is not a valid header name")
        if name.lower() in REFUSED_HEADERS:
            raise WebhookDeclarationError(f"{where}.{name}", "may not be set by a rule (hop-by-hop, framing or "
                                          "server-owned header; Content-Type: use contentType)")
        if template is None or isinstance(template, (Mapping, list, tuple, bool)):
            raise WebhookDeclarationError(f"{where}.{name}", "must be a template (text)")
        try:
            check_syntax(str(template))
        except TemplateRenderError as exc:
            raise WebhookDeclarationError(f"{where}.{name}", str(exc)) from None
        headers.append((name, str(template)))
    return tuple(headers)


def _body(value: Any, where: str) -> str | Mapping[str, str] | None:
    if value is None:
        return None
    templates = value if isinstance(value, Mapping) else {"": value}
    for name, template in templates.items():
        if not isinstance(template, (str, int, float)) or isinstance(template, bool):
            raise WebhookDeclarationError(f"{where}{'.' + str(name) if name else ''}",
                                          "must be a template (text) or a mapping of names to templates")
        try:
            check_syntax(str(template))
        except TemplateRenderError as exc:
            raise WebhookDeclarationError(f"{where}{'.' + str(name) if name else ''}", str(exc)) from None
    if isinstance(value, Mapping):
        return {str(name): str(template) for name, template in value.items()}
    return str(value)


def _rule(raw: Any, where: str) -> ImmediateResponse:
    if not isinstance(raw, Mapping):
        raise WebhookDeclarationError(where, "must be a mapping with conditions and a body")
    unknown = sorted(str(k) for k in raw if k not in _PROPERTIES)
    if unknown:
        raise WebhookDeclarationError(f"{where}.{unknown[0]}", f"unknown property (allowed: {', '.join(_PROPERTIES)})")
    conditions = parse_conditions(raw.get("conditions"), f"{where}.conditions", allow_empty=False)
    body = _body(raw.get("body"), f"{where}.body")
    default_type = "application/json" if isinstance(body, Mapping) else "text/plain"
    content_type = raw.get("contentType", default_type)
    if content_type not in CONTENT_TYPES:
        raise WebhookDeclarationError(f"{where}.contentType",
                                      f"must be one of {', '.join(CONTENT_TYPES)}, got {content_type!r}")
    if isinstance(body, Mapping) and content_type != "application/json":
        raise WebhookDeclarationError(f"{where}.body", "a mapping body needs contentType: application/json")
    code = raw.get("code", 200)
    if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599:
        raise WebhookDeclarationError(f"{where}.code", f"must be an HTTP status code from 200 to 599, got {code!r}")
    return ImmediateResponse(conditions, body, content_type, code, _headers(raw.get("headers"), f"{where}.headers"))


def parse_responses(raw: Any, where: str = "respond") -> tuple[ImmediateResponse, ...]:
    """Read ``respond`` (one rule or a list of rules); raise ``WebhookDeclarationError``."""
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        return (_rule(raw, where),)
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)) or not raw:
        raise WebhookDeclarationError(where, "must be a rule (conditions, body, contentType, code) or a list of rules")
    return tuple(_rule(item, f"{where}[{i}]") for i, item in enumerate(raw))


def matching_response(rules: Sequence[ImmediateResponse],
                      context: Mapping[str, Any]) -> tuple[int, ImmediateResponse] | None:
    """The index and rule of the first rule whose conditions all hold, or None."""
    for i, rule in enumerate(rules):
        if evaluate(rule.conditions, context).met:
            return i, rule
    return None


def render_body(rule: ImmediateResponse, context: Mapping[str, Any]) -> Any:
    """The answer's body: text for text/plain, a JSON-able value for application/json."""
    if rule.body is None:
        return None
    if isinstance(rule.body, Mapping):
        return {name: render_value(template, context) for name, template in rule.body.items()}
    if rule.content_type == "text/plain":
        return render(rule.body, context)
    return render_value(rule.body, context)


def render_headers(rule: ImmediateResponse, context: Mapping[str, Any]) -> dict[str, str]:
    """The rule's response headers rendered; ``TemplateRenderError`` naming the header that fails
    or renders a line break."""
    headers = {}
    for name, template in rule.headers:
        try:
            value = render(template, context).strip()
        except TemplateRenderError as exc:
            raise TemplateRenderError(f"header {name}: {exc}") from None
        if "\r" in value or "\n" in value or "\x00" in value:
            raise TemplateRenderError(f"header {name}: the value holds a line break")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise TemplateRenderError(f"header {name}: the value is not ISO-8859-1 text") from None
        headers[name] = value
    return headers

"""Rendering the templates a declaration holds: keys, conditions, inputs, outputs, secrets.

Why Jinja's *sandboxed* environment with ``StrictUndefined``: templates come from DAG authors,
but the values they read come from strangers on the internet. The sandbox keeps a template from
reaching Python internals through request data, and strict undefined turns a typo into an error
(which a condition counts as false) instead of a silently empty string. Request data is only
ever passed in as *values*: nothing from a request is compiled as a template.

Compiled templates are cached by their source text, so a request renders, never compiles.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from airflow_webhook_trigger import config
from airflow_webhook_trigger.airflow import variables
from airflow_webhook_trigger.airflow.database import is_database_unavailable

__all__ = ["TemplateRenderError", "render", "render_value", "is_true", "check_syntax"]


class TemplateRenderError(ValueError):
    """A template failed to render. The message never holds rendered values."""


class _DataFirstEnvironment(SandboxedEnvironment):
    """``trigger.body.items`` is the body's ``items`` field, not ``dict.items``.

    Jinja looks an attribute up on the object before the mapping's keys, so a payload field named
    like a dict method (``items``, ``keys``, ``values``, ``copy``, ``get``, ``pop``, ``update``)
    would be the method. Webhook payloads use those names (GitHub, Stripe lists...), and Kestra
    reads them as data, so a mapping's own keys win here.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


_ENV = _DataFirstEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{-?(?P<expr>.*?)-?\}\}\s*$", re.DOTALL)


@lru_cache(maxsize=8192)
def _compiled(source: str) -> jinja2.Template:
    template = _ENV.from_string(source)
    # Jinja copies a template's globals (a ChainMap) into a dict on every render, in Python; the
    # environment's globals never change after start-up, so a plain dict renders the same and is
    # copied in C (docs/performance.md, "Templates").
    template.globals = dict(template.globals)
    return template


@lru_cache(maxsize=8192)
def _compiled_expression(source: str) -> Callable[..., Any] | None:
    """The template as one expression, when it is exactly ``{{ expr }}``; else None."""
    match = _SINGLE_EXPRESSION.match(source)
    if not match or "{{" in match.group("expr") or "}}" in match.group("expr"):
        return None
    body = _ENV.parse(source).body
    if len(body) != 1 or not isinstance(body[0], nodes.Output):
        return None
    if [n for n in body[0].nodes if not isinstance(n, nodes.TemplateData)] != body[0].nodes[-1:]:
        return None
    return _ENV.compile_expression(match.group("expr"), undefined_to_none=False)


def check_syntax(source: str) -> None:
    """Raise ``TemplateRenderError`` if ``source`` is not a valid template (at declaration time).

    Text without ``{`` cannot hold Jinja syntax: it is not compiled, so an index of thousands of
    literal keys does not keep thousands of compiled templates.
    """
    if "{" not in source:
        return
    try:
        _compiled(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateRenderError(f"template syntax error at line {exc.lineno}: {exc.message}") from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined: {exc.message}"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"template syntax error at line {exc.lineno}: {exc.message}"
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return f"not allowed in a sandboxed template: {exc}"
    if isinstance(exc, TemplateRenderError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def render(source: str, context: Mapping[str, Any]) -> str:
    """Render ``source`` to text. Any failure becomes ``TemplateRenderError``.

    Text without ``{`` (nor a carriage return, which Jinja would normalise) is itself: answered
    without Jinja, as it is on every request to a webhook with a literal key: Jinja's context
    setup alone is a visible share of the 404 path (docs/performance.md, "Templates").
    """
    if "{" not in source and "\r" not in source:
        return source
    try:
        return _compiled(source).render(context)
    except Exception as exc:  # noqa: BLE001 - every failure of a user template is the same to us
        _reraise_if_database_unavailable(exc)
        raise TemplateRenderError(_describe(exc)) from None


def _reraise_if_database_unavailable(exc: Exception) -> None:
    """A ``secret()``/``var``/``conn`` read that failed because the database is down is not the
    template's fault: let it reach ``dispatch.handle``, which answers 503 so the sender retries."""
    if is_database_unavailable(exc):
        raise exc


def render_value(source: str, context: Mapping[str, Any]) -> Any:
    """Render ``source`` keeping the value's type when it is one ``{{ expression }}``.

    ``"{{ trigger.body.number }}"`` gives the number 42, ``"{{ trigger.body.labels }}"`` the
    list; any other template gives text. Unlike Jinja's NativeEnvironment, a string value stays a
    string (it is never ``literal_eval``-ed), so request text cannot turn into other types.
    """
    try:
        expression = _compiled_expression(source)
        if expression is None:
            return _compiled(source).render(context)
        value = expression(**context)
        if isinstance(value, jinja2.Undefined):
            str(value)  # raises UndefinedError with Jinja's own message
        return value
    except Exception as exc:  # noqa: BLE001
        _reraise_if_database_unavailable(exc)
        raise TemplateRenderError(_describe(exc)) from None


def is_true(text: str) -> bool:
    """Kestra's truthiness: false only when the text is blank or ``false`` (any case)."""
    stripped = text.strip()
    return bool(stripped) and stripped.lower() != "false"


# --- what every template sees besides ``trigger``: flow.*, secret(), var, conn -------------------


class _TTLCache:
    """A tiny time-bounded memo for secret and variable reads.

    Why not per-request reads: a key like ``{{ secret('K') }}`` is rendered on every request,
    and a secrets backend or the metadata database must not be hit each time (the 404 path
    has to stay as cheap as an empty handler). Why not forever: rotated secrets must apply
    within ``[webhook_trigger] key_cache_seconds``.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._values: dict[tuple[str, str], tuple[float, Any]] = {}
        self.max_entries = max_entries  # bounded: a template may read names from the request

    def get(self, kind: str, name: str, load: Callable[[str], Any]) -> Any:
        now = time.monotonic()
        hit = self._values.get((kind, name))
        if hit is not None and now - hit[0] < config.get_float("key_cache_seconds"):
            return hit[1]
        value = load(name)
        values = self._values
        values.pop((kind, name), None)
        while len(values) >= self.max_entries:  # the oldest read goes first
            try:
                values.pop(next(iter(values)))
            except (StopIteration, KeyError, RuntimeError):  # emptied or changed by another thread
                break
        values[(kind, name)] = (now, value)
        return value

    def clear(self) -> None:
        self._values.clear()


SECRETS_CACHE = _TTLCache()


def secret(name: str) -> str:
    """``secret('NAME')``: the Airflow Variable NAME, through whatever secrets backend is set."""
    value = SECRETS_CACHE.get("var", str(name), variables.get_variable)
    if value is None:
        raise TemplateRenderError(f"secret {name!r} is not set (no Airflow Variable or secret of that name)")
    return value


class _VariableAccessor:
    """``var.value.NAME`` and ``var.json.NAME``, as in Airflow's task templates."""

    def __init__(self, deserialize_json: bool) -> None:
        self._json = deserialize_json

    def __getattr__(self, name: str) -> Any:
        return self.get(name)

    def get(self, name: str, default: Any = None) -> Any:
        value = secret(name) if default is None else (_safe_secret(name) or default)
        return json.loads(value) if self._json and isinstance(value, str) else value


def _safe_secret(name: str) -> str | None:
    try:
        return secret(name)
    except TemplateRenderError:
        return None


class _Vars:
    value = _VariableAccessor(deserialize_json=False)
    json = _VariableAccessor(deserialize_json=True)


class _Connections:
    """``conn.CONN_ID.host`` (or ``.password``, ``.extra_dejson`` ...), as in task templates."""

    def __getattr__(self, conn_id: str) -> Any:
        return self.get(conn_id)

    def get(self, conn_id: str) -> Any:
        return SECRETS_CACHE.get("conn", conn_id, variables.get_connection)


_VARS = _Vars()
_CONNS = _Connections()


def flow_context(dag_id: str, namespace: str) -> dict[str, Any]:
    """The names a key, secret or condition template can use besides ``trigger``."""
    return {"flow": {"id": dag_id, "namespace": namespace}, "secret": secret, "var": _VARS, "conn": _CONNS}

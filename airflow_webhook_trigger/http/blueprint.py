"""The Flask blueprint: an HTTP request in, ``dispatch.handle``'s ``Outcome`` out.

This is the only module that knows Flask. It reads the body with a size limit (413 before the
whole body is in memory, also for chunked requests), answers every path and method under its
prefix itself (so a wrong method is a JSON 405 and an extra segment a JSON 404 in any host app),
and never lets an exception become Flask's HTML error page.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from flask import Blueprint, Request, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter

from airflow_webhook_trigger.dispatch import handle
from airflow_webhook_trigger.index import WebhookIndex
from airflow_webhook_trigger.outcome import NOT_FOUND, Outcome
from airflow_webhook_trigger.request import WebhookRequest
from airflow_webhook_trigger.stored_bodies import body_limit
from airflow_webhook_trigger.urls import URL_PREFIX

__all__ = ["URL_PREFIX", "create_blueprint", "json_error", "method_not_allowed"]

log = logging.getLogger(__name__)

ALLOWED_METHODS = ("GET", "POST", "PUT")
_ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
_CHUNK = 64 * 1024
# the environ key of the Event Airflow 3's bridge sets when the client disconnects (the same
# text as bridge.DISCONNECTED; not imported: the bridge needs a2wsgi, absent on Airflow 2)
DISCONNECTED = "webhook.disconnected"
STEP_ASIDE = "webhook.step_aside"  # bridge.STEP_ASIDE, likewise


class BodyTooLarge(Exception):
    pass


class BodyCutOff(Exception):
    """Fewer bytes arrived than the request's Content-Length: the client went away mid-body."""


class _AnyPath(PathConverter):
    """Any rest of the path, also with empty segments (``//``) that Flask's ``path`` refuses."""

    regex = ".*"
    part_isolating = False  # spans segments (werkzeug would infer True: no "/" in the regex)


def _json(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps({"message": message}), status=status, mimetype="application/json", headers=headers)


def method_not_allowed() -> Response:
    allowed = ", ".join(ALLOWED_METHODS)
    return _json(405, f"Method Not Allowed: use {allowed}", {"Allow": allowed})


def json_error(exc: HTTPException) -> Response:
    """Werkzeug's own answers (a method no route lists, such as TRACE) as JSON, not HTML."""
    if exc.code == 405:
        return method_not_allowed()
    return _json(exc.code or 400, f"{exc.name}: {exc.description}")


def has_encoded_slash(environ: dict) -> bool:
    """Whether the path as sent holds ``%2F``: servers decode it into ``/`` before routing, which
    would let ``ns%2Fdag/key`` reach ``ns/dag/key``. Namespaces and DAG ids never hold ``/``."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")  # gunicorn, werkzeug
    scope = environ.get("asgi.scope")  # a2wsgi, on Airflow 3
    if not raw and isinstance(scope, dict) and isinstance(scope.get("raw_path"), bytes):
        raw = scope["raw_path"].decode("latin-1")
    return "%2f" in (raw or "").split("?", 1)[0].lower()


def to_response(outcome: Outcome) -> Response:
    headers = dict(outcome.headers)
    if outcome.body is None:
        response = Response(b"", status=outcome.status, headers=headers)
        del response.headers["Content-Type"]  # 204: no body, so no type either
        return response
    if isinstance(outcome.body, str) and not outcome.content_type.startswith("application/json"):
        return Response(outcome.body, status=outcome.status, content_type=outcome.content_type, headers=headers)
    payload = json.dumps(outcome.body, default=str, ensure_ascii=False)
    return Response(payload, status=outcome.status, content_type="application/json", headers=headers)


def read_body(environ: dict, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes as soon as it is known, and a body
    shorter than its Content-Length (``BodyCutOff``: the client disconnected before sending it all).

    Read from ``wsgi.input`` directly: Werkzeug gives an empty stream for a chunked request
    without Content-Length unless the server marks its input terminated, and servers differ.
    """
    length = environ.get("CONTENT_LENGTH") or ""
    if length.strip().isdigit() and int(length) > limit:
        raise BodyTooLarge()
    stream = environ["wsgi.input"]
    if length.strip().isdigit():
        expected = int(length)
        body = stream.read(expected) if expected else b""
        if len(body) < expected:  # gunicorn hands on what arrived before the client closed
            raise BodyCutOff()
        return body
    chunks, size = [], 0
    while True:
        try:
            chunk = stream.read(_CHUNK)
        except OSError:  # gunicorn: NoMoreData, a missing chunk terminator (all IOError)
            raise BodyCutOff() from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)


def _header_text(value: bytes) -> str:
    """UTF-8 when the bytes are UTF-8 (what senders mean by a non-ASCII value), else latin-1 (RFC 9110)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _header_pairs(req: Request) -> tuple[tuple[str, str], ...]:
    """Every header as sent. WSGI joins a repeated header into one value (``X-A: 1`` twice reads
    ``1,1``); behind the ASGI bridge (Airflow 3) the scope still holds them one by one."""
    scope = req.environ.get("asgi.scope")
    if isinstance(scope, dict) and isinstance(scope.get("headers"), (list, tuple)):
        return tuple([(name.decode("latin-1"), _header_text(value)) for name, value in scope["headers"]])
    return tuple(req.headers.items())


def _scope_tenant(environ: dict) -> str | None:
    """The ``{tenant}`` of Kestra 2.x's URL when the app is mounted at ``TENANT_URL_PREFIX``."""
    scope = environ.get("asgi.scope")
    params = scope.get("path_params") if isinstance(scope, dict) else None
    return params.get("tenant") if isinstance(params, dict) else None


def _webhook_request(req: Request, body: bytes) -> WebhookRequest:
    environ = req.environ
    return WebhookRequest(
        method=req.method,
        headers=_header_pairs(req),
        query=tuple(req.args.items(multi=True)) if environ.get("QUERY_STRING") else (),
        body=body,
        received_at=datetime.now(timezone.utc),
        host_url=f"{req.scheme}://{req.host}/",  # request.host_url without its costly IRI pass
        client_gone=environ.get(DISCONNECTED),  # Airflow 3's bridge; None under gunicorn (Airflow 2)
        step_aside=environ.get(STEP_ASIDE),
    )


def create_blueprint(
    name: str = "webhook_trigger", url_prefix: str | None = URL_PREFIX, *, index: WebhookIndex | None = None
) -> Blueprint:
    """A blueprint serving ``{url_prefix}/<namespace>/<flowId>/<key>``; pass ``url_prefix=None``
    when the host mounts the app at the prefix itself (the Airflow 3 mount). ``index``: serve
    from this index instead of the process's own (tests, dry runs); None: ``get_index()``."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    bp.record_once(lambda state: state.app.url_map.converters.setdefault("webhook_any_path", _AnyPath))

    # merge_slashes=False: an empty segment (``ns//key``) is a JSON 404, not an HTML redirect
    @bp.route("/<namespace>/<dag_id>/<key>", methods=_ALL_METHODS, strict_slashes=True, merge_slashes=False)
    def webhook(namespace: str, dag_id: str, key: str, tenant: str | None = None) -> Response:
        # the request object itself, once: each access through Flask's ``request`` proxy is a
        # context-variable look-up, and the 404/204 paths must stay as cheap as an empty view
        req = request._get_current_object()
        if req.method not in ALLOWED_METHODS:
            return method_not_allowed()
        environ = req.environ
        if has_encoded_slash(environ):  # "a%2Fb" is one segment holding "/": no such webhook
            return to_response(NOT_FOUND)
        if tenant is None:  # Airflow 3: the tenant mount's path parameter (plugin.py)
            tenant = _scope_tenant(environ)
        limit = body_limit(namespace, dag_id, index=index)
        try:
            body = read_body(environ, limit)
        except BodyTooLarge:  # close: a sender still uploading is not drained by the server
            return _json(413, f"Payload Too Large: the body must be at most {limit} bytes", {"Connection": "close"})
        except BodyCutOff:  # never dispatched: a partial body is not the delivery the sender meant
            return _json(400, "Bad Request: the body ended before its Content-Length", {"Connection": "close"})
        try:
            return to_response(handle(_webhook_request(req, body), namespace, dag_id, key, index=index, tenant=tenant))
        except Exception:  # a bug of ours must still answer JSON, and be found in the log
            log.exception("Webhook request for DAG %s failed", dag_id)
            return _json(500, "Internal Server Error: the webhook failed unexpectedly; see the api-server log")

    @bp.route("/", defaults={"rest": ""}, methods=_ALL_METHODS, strict_slashes=False, merge_slashes=False)
    @bp.route("/<webhook_any_path:rest>", methods=_ALL_METHODS, merge_slashes=False)
    def not_found(rest: str, tenant: str | None = None) -> Response:
        return to_response(NOT_FOUND)

    return bp

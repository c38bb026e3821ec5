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

from flask import Blueprint, Response, request

from airflow_webhook_trigger import config
from airflow_webhook_trigger.dispatch import NOT_FOUND, Outcome, handle
from airflow_webhook_trigger.request import WebhookRequest

__all__ = ["URL_PREFIX", "create_blueprint"]

log = logging.getLogger(__name__)

URL_PREFIX = "/api/v1/executions/webhook"
ALLOWED_METHODS = ("GET", "POST", "PUT")
_ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
_CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    pass


def _json(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps({"message": message}), status=status, mimetype="application/json", headers=headers)


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
    """The request body, refusing more than ``limit`` bytes as soon as it is known.

    Read from ``wsgi.input`` directly: Werkzeug gives an empty stream for a chunked request
    without Content-Length unless the server marks its input terminated, and servers differ.
    """
    length = environ.get("CONTENT_LENGTH") or ""
    if length.strip().isdigit() and int(length) > limit:
        raise BodyTooLarge()
    stream = environ["wsgi.input"]
    if length.strip().isdigit():
        return stream.read(int(length)) if int(length) else b""
    chunks, size = [], 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)


def _webhook_request(body: bytes) -> WebhookRequest:
    return WebhookRequest(
        method=request.method,
        headers=tuple(request.headers.items()),
        query=tuple(request.args.items(multi=True)),
        body=body,
        received_at=datetime.now(timezone.utc),
        host_url=request.host_url,
    )


def create_blueprint(name: str = "webhook_trigger", url_prefix: str | None = URL_PREFIX) -> Blueprint:
    """A blueprint serving ``{url_prefix}/<namespace>/<flowId>/<key>``; pass ``url_prefix=None``
    when the host mounts the app at the prefix itself (the Airflow 3 mount)."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)

    @bp.route("/<namespace>/<flow_id>/<key>", methods=_ALL_METHODS, strict_slashes=True)
    def webhook(namespace: str, flow_id: str, key: str) -> Response:
        if request.method not in ALLOWED_METHODS:
            return _json(405, f"Method Not Allowed: use {', '.join(ALLOWED_METHODS)}", {"Allow": ", ".join(ALLOWED_METHODS)})
        limit = config.get_int("max_body_size")
        try:
            body = read_body(request.environ, limit)
        except BodyTooLarge:
            return _json(413, f"Payload Too Large: the body must be at most {limit} bytes")
        try:
            return to_response(handle(_webhook_request(body), namespace, flow_id, key))
        except Exception:  # a bug of ours must still answer JSON, and be found in the log
            log.exception("Webhook request for DAG %s failed", flow_id)
            return _json(500, "Internal Server Error: the webhook failed unexpectedly; see the api-server log")

    @bp.route("/", defaults={"rest": ""}, methods=_ALL_METHODS)
    @bp.route("/<path:rest>", methods=_ALL_METHODS)
    def not_found(rest: str) -> Response:
        return to_response(NOT_FOUND)

    return bp

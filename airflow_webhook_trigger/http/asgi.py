"""Serving the blueprint on Airflow 3's api-server, and keeping keys out of its access log.

Airflow 3 mounts a plugin's ASGI app at ``url_prefix`` (``fastapi_apps``) ahead of its own
routes and without authentication. The blueprint lives in a small Flask app bridged to ASGI by
``bridge.BufferedWSGIBridge`` (one thread hand-over per request, where ``a2wsgi`` makes three or
four; see its docstring). ``plugin.py`` names ``create_webhook_asgi_app`` to a ``LazyASGIApp``,
so this module is imported by the first webhook request only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Flask
from werkzeug.exceptions import HTTPException

from airflow_webhook_trigger import config
from airflow_webhook_trigger.airflow.versions import ACCESS_LOG_AT_RESPONSE_START
from airflow_webhook_trigger.http.admission import AdmissionControl, refuse_queued
from airflow_webhook_trigger.http.blueprint import create_blueprint, json_error
from airflow_webhook_trigger.http.bridge import BufferedWSGIBridge
from airflow_webhook_trigger.stored_bodies import body_limit
from airflow_webhook_trigger.urls import mask_keys

__all__ = ["create_webhook_asgi_app", "create_flask_app", "MaskKeyInAccessLog"]


def create_flask_app(url_prefix: str | None = None) -> Flask:
    """A Flask app holding only the webhook blueprint (``url_prefix=None``: mounted at the prefix)."""
    app = Flask("airflow_webhook_trigger")
    app.register_blueprint(create_blueprint(url_prefix=url_prefix))
    app.register_error_handler(HTTPException, json_error)
    return app


def create_webhook_asgi_app():
    """The webhook Flask app behind the buffered bridge, as the api-server serves it, with the
    key masked in the access log."""
    active = config.get_int("max_active_requests")
    # threads for every active request and every wait, however the options are set
    threads = max(config.get_int("wsgi_threads"), active + config.get_int("max_concurrent_waits"))
    bridge = BufferedWSGIBridge(create_flask_app(), workers=threads, body_limit=scope_body_limit, active=active,
                                max_queue_seconds=lambda: config.get_float("max_queue_seconds"), refused=refuse_queued)
    return MaskKeyInAccessLog(AdmissionControl(bridge))


def scope_body_limit(scope: dict) -> int:
    """The most the bridge reads of this request's body: ``max_body_size``, or more for a DAG with
    a ``fetchType: STORE`` trigger (``stored_bodies.body_limit``, one index look-up)."""
    root = scope.get("root_path", "")
    path = scope.get("path", "")
    parts = (path[len(root):] if path.startswith(root) else path).split("/")
    if len(parts) == 4:  # "", namespace, dag_id, key
        return body_limit(parts[1], parts[2])
    return config.get_int("max_body_size")


class MaskKeyInAccessLog:
    """Wraps the webhook app: once a request is answered, its path shows ``***`` for everything
    after ``{namespace}/{dag_id}`` (``urls.mask_keys``: under a sub-path such as ``/airflow``, where
    ``scope["path"]`` keeps the full path, and with odd or encoded slashes alike).

    Airflow's access-log middleware writes ``scope["path"]`` when the app it wraps returns (in a
    ``finally``). Starlette hands a mounted app that very scope dict (``Mount`` updates it in
    place), so rewriting ``path`` and ``raw_path`` here, after the answer is sent and before
    returning, is before the log line is written and after routing needed the real path. Why
    not a root middleware: that runs around every request of the api-server and must wrap
    ``send`` to catch the response's start; here it costs one ``finally`` per webhook request.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if ACCESS_LOG_AT_RESPONSE_START and scope.get("type") == "http":
            send = _masking_at_start(scope, send)  # uvicorn logs before this app returns
        try:
            await self.app(scope, receive, send)
        finally:
            if scope.get("type") == "http":
                _mask_scope(scope)


def _mask_scope(scope: dict) -> None:
    scope["path"] = mask_keys(scope.get("path", ""))
    if isinstance(scope.get("raw_path"), bytes):
        scope["raw_path"] = mask_keys(scope["raw_path"].decode("latin-1")).encode("latin-1")
    query = scope.get("query_string")
    if query and isinstance(query, bytes):
        scope["query_string"] = _mask_query(query)


def _mask_query(query: bytes) -> bytes:
    """``[webhook_trigger] masked_parameters`` as ``***`` in the logged query string too (Airflow
    3.0/3.1's uvicorn logs it as sent; 3.2+ redacts only names that look secret)."""
    names = config.get_names("masked_parameters")
    if not names:
        return query
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    if not any(name.lower() in names for name, _ in pairs):
        return query
    return urlencode([(name, "***" if name.lower() in names else value) for name, value in pairs],
                     safe="*").encode("latin-1")


def _masking_at_start(scope: dict, send):
    """``send`` that masks the scope's path as the response starts: Airflow 3.0/3.1 leave the
    access log to uvicorn, which writes the line then, before the app has returned."""

    async def masking_send(message) -> None:
        if message.get("type") == "http.response.start":
            _mask_scope(scope)
        await send(message)

    return masking_send

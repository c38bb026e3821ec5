"""Serving the blueprint on Airflow 3's api-server, and keeping keys out of its access log.

Airflow 3 mounts a plugin's ASGI app at ``url_prefix`` (``fastapi_apps``) ahead of its own
routes and without authentication. The blueprint lives in a small Flask app bridged to ASGI by
``bridge.BufferedWSGIBridge`` (one thread hand-over per request, where ``a2wsgi`` makes three or
four; see its docstring). The app is built on the first request, so that the plugin costs
nothing in the scheduler, workers and DAG processor, which import it too.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from airflow_webhook_trigger import config
from airflow_webhook_trigger.http.blueprint import URL_PREFIX

__all__ = ["LazyASGIApp", "create_webhook_asgi_app", "create_flask_app", "json_error", "MaskKeyInAccessLog", "mask_key"]


def create_flask_app(url_prefix: str | None = None):
    """A Flask app holding only the webhook blueprint (``url_prefix=None``: mounted at the prefix)."""
    from flask import Flask
    from werkzeug.exceptions import HTTPException

    from airflow_webhook_trigger.http.blueprint import create_blueprint

    app = Flask("airflow_webhook_trigger")
    app.register_blueprint(create_blueprint(url_prefix=url_prefix))
    app.register_error_handler(HTTPException, json_error)
    return app


def json_error(exc):
    """Werkzeug's own answers (a method no route lists, such as TRACE) as JSON, not HTML."""
    import json

    from flask import Response

    from airflow_webhook_trigger.http.blueprint import method_not_allowed

    if exc.code == 405:
        return method_not_allowed()
    return Response(json.dumps({"message": f"{exc.name}: {exc.description}"}), status=exc.code or 400,
                    mimetype="application/json")


class LazyASGIApp:
    """An ASGI app that builds the real one with ``factory()`` on its first request.

    Why lazy: the plugin module is imported by every Airflow process (scheduler, workers, DAG
    processor), and only the api-server ever serves a request.
    """

    def __init__(self, factory) -> None:
        self._factory = factory
        self._app: Any = None
        self._lock = threading.Lock()

    def _build(self) -> Any:
        with self._lock:
            if self._app is None:
                self._app = self._factory()
        return self._app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":  # a mounted app gets no lifespan; answer one if asked
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            return
        app = self._app or self._build()
        await app(scope, receive, send)


def create_webhook_asgi_app():
    """The webhook Flask app behind the buffered bridge, as the api-server serves it, with the
    key masked in the access log."""
    from airflow_webhook_trigger.http.bridge import BufferedWSGIBridge

    return MaskKeyInAccessLog(BufferedWSGIBridge(create_flask_app(), workers=config.get_int("wsgi_threads"),
                                                 body_limit=lambda: config.get_int("max_body_size")))


_KEY_IN_PATH = re.compile(r"^(" + re.escape(URL_PREFIX) + r"/[^/]*/[^/]*/)([^/]+)(.*)$")


def mask_key(path: str) -> str:
    """``/api/v1/executions/webhook/ns/dag/SECRET`` -> ``/api/v1/executions/webhook/ns/dag/***``."""
    return _KEY_IN_PATH.sub(r"\1***\3", path)


class MaskKeyInAccessLog:
    """Wraps the webhook app: once a request is answered, its path shows ``***`` for the key.

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
        try:
            await self.app(scope, receive, send)
        finally:
            if scope.get("type") == "http":
                scope["path"] = mask_key(scope.get("path", ""))
                if isinstance(scope.get("raw_path"), bytes):
                    scope["raw_path"] = mask_key(scope["raw_path"].decode("latin-1")).encode("latin-1")

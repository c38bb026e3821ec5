"""Bench-only Airflow plugin: the empty handlers the webhook's no-write paths are compared with.

``bench/run.py`` copies this file into the benchmark's ``$AIRFLOW_HOME/plugins/``; it is never
installed with the package. Why two handlers:

- ``/api/v1/executions/empty-bridge/...``: an empty Flask view mounted exactly as the webhook
  is (``fastapi_apps`` -> the plugin's ``BufferedWSGIBridge`` with the same thread count ->
  Flask), answering 204. The webhook's 404/204 paths divided by this one is the plugin's own
  overhead and nothing else: same server, same root middlewares, same bridge, same framework.
- ``/api/v1/executions/empty/...``: the same empty view behind ``a2wsgi.WSGIMiddleware``, the
  bridge a plugin gets by default (and the webhook used before ``http/bridge.py``).
- ``/api/v1/executions/native/...``: a FastAPI ``async`` handler answering 204, for context: what
  any WSGI bridge and Flask cost compared with a native ASGI route on the same api-server.
"""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, Response
from flask import Flask
from flask import Response as FlaskResponse

from airflow_webhook_trigger import config
from airflow_webhook_trigger.http.bridge import BufferedWSGIBridge

_ALL = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def _empty_flask_app() -> Flask:
    app = Flask("bench_empty")

    @app.route("/<namespace>/<flow_id>/<key>", methods=_ALL)
    def empty(namespace: str, flow_id: str, key: str) -> FlaskResponse:
        return FlaskResponse(b"", status=204)

    return app


_native = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@_native.api_route("/{namespace}/{flow_id}/{key}", methods=_ALL)
async def _native_empty(namespace: str, flow_id: str, key: str) -> Response:
    return Response(status_code=204)


class BenchEmptyHandlers(AirflowPlugin):
    name = "bench_empty_handlers"
    fastapi_apps = [
        {
            "app": WSGIMiddleware(_empty_flask_app(), workers=config.get_int("wsgi_threads")),
            "url_prefix": "/api/v1/executions/empty",
            "name": "bench: empty Flask handler through a2wsgi",
        },
        {
            "app": BufferedWSGIBridge(_empty_flask_app(), workers=config.get_int("wsgi_threads"),
                                      body_limit=lambda scope: config.get_int("max_body_size")),
            "url_prefix": "/api/v1/executions/empty-bridge",
            "name": "bench: empty Flask handler through the plugin's own WSGI bridge",
        },
        {"app": _native, "url_prefix": "/api/v1/executions/native", "name": "bench: empty FastAPI handler"},
    ]

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
- ``/api/v1/executions/floor/{dag_id}``: the least any endpoint creating runs through Airflow's
  ``create_dagrun`` can do: a FastAPI ``def`` route (run in Airflow's thread pool, as the REST
  endpoint is) that calls ``create_dagrun`` with the request's ``conf`` on a DAG object kept from
  the first request (no query, no check, no audit, no answer model) and commits. Measured beside
  the webhook and the REST trigger, it says how much of the gap between them any plugin could
  close: webhook / floor is the plugin's own cost, floor / REST the best ratio reachable while
  Airflow creates the run.
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


_floor = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
_floor_dags: dict = {}


@_floor.post("/{dag_id}")
def _floor_run(dag_id: str, request: dict) -> dict:
    # imports here: the ORM is the api-server's, and this module is imported by every Airflow process
    import uuid

    from airflow.models.dagbag import DBDagBag
    from airflow.utils import timezone
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    with create_session() as session:
        dag = _floor_dags.get(dag_id)
        if dag is None:
            dag = _floor_dags[dag_id] = DBDagBag(load_op_links=False).get_latest_version_of_dag(dag_id, session=session)
        run = dag.create_dagrun(
            run_id=f"floor__{uuid.uuid4().hex}", logical_date=None, data_interval=None, run_after=timezone.utcnow(),
            conf=request.get("conf"), run_type=DagRunType.MANUAL, triggered_by=DagRunTriggeredByType.REST_API,
            triggering_user_name="bench", state=DagRunState.QUEUED, session=session,
        )
        return {"dag_run_id": run.run_id}


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
        {"app": _floor, "url_prefix": "/api/v1/executions/floor", "name": "bench: create_dagrun and nothing else"},
    ]

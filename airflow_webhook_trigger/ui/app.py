"""The Webhooks page's routes: a FastAPI app mounted at ``URL_PREFIX`` on Airflow 3's api-server.

Why FastAPI here when the webhook endpoint itself is Flask: the page exists only on Airflow 3,
whose api-server is FastAPI, and Airflow's own ``get_user`` dependency (cookie or bearer token,
expiry, revocation) is a FastAPI dependency that the page reuses as is. Like the webhook app,
it is built on its first request so that it costs nothing in Airflow's other processes.

Routes (all need an Airflow login; the HTML ones redirect to the auth manager's login page):

- ``GET /``: every webhook the user may read, invalid declarations, recent deliveries;
- ``GET /dags/{dag_id}``: the same for one DAG (the "Webhooks" tab of a DAG's page);
- ``GET /api/url/{namespace}/{dag_id}/{trigger_id}``: the full URL with the key, JSON, for the
  "Reveal" and "Copy" buttons; each call is written to Airflow's audit log;
- ``GET /icon.svg``, ``/icon-dark.svg``: the menu icon.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations.
import json
import logging
from datetime import datetime, timezone
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from airflow_webhook_trigger.airflow import audit_log
from airflow_webhook_trigger.airflow import ui_auth as auth
from airflow_webhook_trigger.ui.render import HERE, base_url, render_page
from airflow_webhook_trigger.ui.webhooks import RevealRefused, build_page, reveal_url

__all__ = ["REVEAL_EVENT", "create_app"]

log = logging.getLogger(__name__)

REVEAL_EVENT = "webhook.url_revealed"
_ICON_COLOR, _ICON_COLOR_DARK = "#3f4a5a", "#e2e8f0"
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _json(status: int, payload: dict[str, Any]):
    return JSONResponse(payload, status_code=status, headers=_NO_STORE)


def _audit_reveal(user, namespace: str, dag_id: str, trigger_id: str) -> None:
    """Who saw which key, and when: Browse -> Audit Log, event ``webhook.url_revealed``."""
    extra = json.dumps({"namespace": namespace, "trigger": trigger_id})
    try:
        audit_log.write_audit_log([{"event": REVEAL_EVENT, "dag_id": dag_id, "owner": auth.user_name(user),
                                  "extra": extra, "when": datetime.now(timezone.utc)}])
    except Exception as exc:  # noqa: BLE001 - the audit entry must not hide the answer
        log.warning("Could not write the audit entry for revealing webhook %s of DAG %s: %s", trigger_id, dag_id, exc)


def create_app():
    app = FastAPI(title="Webhooks page", docs_url=None, redoc_url=None, openapi_url=None)

    async def html_page(request: Request, dag_id: str | None) -> Response:
        user = await auth.current_user(request)
        if user is None:
            return RedirectResponse(await run_in_threadpool(auth.login_url, str(request.url)), status_code=302)
        page = await run_in_threadpool(build_page, user, base_url=base_url(request), dag_id=dag_id)
        return HTMLResponse(render_page(request, page), headers=_NO_STORE)

    @app.get("/", response_class=HTMLResponse)
    async def all_webhooks(request: Request) -> Response:
        return await html_page(request, None)

    @app.get("/dags/{dag_id}", response_class=HTMLResponse)
    async def dag_webhooks(request: Request, dag_id: str) -> Response:
        return await html_page(request, dag_id)

    @app.get("/api/url/{namespace}/{dag_id}/{trigger_id}")
    async def url_with_key(request: Request, namespace: str, dag_id: str, trigger_id: str) -> Response:
        user = await auth.current_user(request)
        if user is None:
            return _json(401, {"message": "Unauthorized: log in to Airflow to see webhook URLs"})
        try:
            url = await run_in_threadpool(reveal_url, user, namespace, dag_id, trigger_id, base_url=base_url(request))
        except RevealRefused as refused:
            return _json(refused.status, {"message": refused.message})
        await run_in_threadpool(_audit_reveal, user, namespace, dag_id, trigger_id)
        return _json(200, {"url": url})

    @app.get("/icon.svg")
    @app.get("/icon-dark.svg")
    async def icon(request: Request) -> Response:
        svg = (HERE / "icon.svg").read_text()
        if request.url.path.endswith("-dark.svg"):
            svg = svg.replace(_ICON_COLOR, _ICON_COLOR_DARK)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    return app

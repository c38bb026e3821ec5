"""The "Webhooks" page of the Airflow 3 UI (Browse -> Webhooks, and a "Webhooks" tab on each DAG).

Why an external view (an iframe) over a page of our own rather than a React app: the page is
plain server-rendered HTML with a little vanilla JS, so it needs no JS build and no bundle to
ship, and it is served by a second ``fastapi_apps`` mount of this plugin at ``UI_PREFIX`` on the
same origin as the UI, so the browser sends it the UI's session cookie and Airflow's own auth
decides what each user sees (``airflow/ui_auth.py``).
"""

from __future__ import annotations

from airflow_webhook_trigger.http.lazy_app import LazyASGIApp
from airflow_webhook_trigger.urls import UI_PREFIX

__all__ = ["PAGE_NAME", "URL_PREFIX", "plugin_entries"]

URL_PREFIX = UI_PREFIX
PAGE_NAME = "Webhooks"


def plugin_entries() -> tuple[dict, list[dict]]:
    """The ``fastapi_apps`` entry serving the page, and the ``external_views`` showing it.

    Relative ``href``s resolve against the UI's base URL, so the page also works when Airflow is
    served under a path. ``{DAG_ID}`` is filled in by the UI for the DAG tab. The app is built by
    its first request (``ui/app.py``), so other Airflow processes never load FastAPI for it.
    """
    app = {"app": LazyASGIApp("airflow_webhook_trigger.ui.app:create_app"), "url_prefix": UI_PREFIX,
           "name": "Webhooks page"}
    here = UI_PREFIX.lstrip("/")
    icons = {"icon": f"{here}/icon.svg", "icon_dark_mode": f"{here}/icon-dark.svg"}
    views = [
        {"name": PAGE_NAME, "href": f"{here}/", "destination": "nav", "category": "browse",
         "url_route": "webhooks", **icons},
        {"name": PAGE_NAME, "href": f"{here}/dags/{{DAG_ID}}", "destination": "dag",
         "url_route": "webhooks-dag", **icons},
    ]
    return app, views

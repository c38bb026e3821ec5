"""The Airflow plugin: registered through the ``airflow.plugins`` entry point, so ``pip install``
is the whole installation.

On Airflow 3 the webhook app is mounted on the api-server at the exact Kestra path through
``fastapi_apps`` (``flask_blueprints`` would need the FAB provider and live under
``/pluginsv2``), with the Webhooks page beside it. On Airflow 2 the same blueprint is registered
on the Flask webserver (``http/airflow2.py``). Every Airflow process imports this module, so it
only declares: the apps are built by their first request (``http/lazy_app.py``).
"""

from __future__ import annotations

import logging

from airflow.plugins_manager import AirflowPlugin

from airflow_webhook_trigger.airflow.versions import AIRFLOW_VERSION, HAS_EXTERNAL_VIEWS, HAS_PROVIDER_CLI, IS_AIRFLOW_2
from airflow_webhook_trigger.http.lazy_app import lazy_app
from airflow_webhook_trigger.ui import plugin_entries
from airflow_webhook_trigger.urls import TENANT_URL_PREFIX, URL_PREFIX

__all__ = ["WebhookTriggerPlugin"]

log = logging.getLogger(__name__)


class WebhookTriggerPlugin(AirflowPlugin):
    name = "webhook_trigger"

    if IS_AIRFLOW_2:  # pragma: no cover - exercised by the Airflow 2 conformance run
        from airflow_webhook_trigger.http.access_log import mask_keys_in_gunicorn_access_log
        from airflow_webhook_trigger.http.airflow2 import airflow2_blueprints

        flask_blueprints = airflow2_blueprints()
        mask_keys_in_gunicorn_access_log()
        del mask_keys_in_gunicorn_access_log, airflow2_blueprints
    else:
        _page, _views = plugin_entries()
        # One app, two mounts: Kestra's path, and Kestra 2.x's tenant path, whose ``{tenant}`` is a
        # path parameter of Starlette's Mount (one mount for every tenant, and nothing else under
        # /api/v1 is captured; the app answers 404 for a tenant not in [webhook_trigger] tenants)
        # The audit rows a worker still buffers are written at its shutdown (http/fastapi_mount.py)
        _webhook_app = lazy_app("airflow_webhook_trigger.http.asgi:create_webhook_asgi_app",
                                on_shutdown="airflow_webhook_trigger.audit:flush_at_shutdown")
        fastapi_apps = [
            {"app": _webhook_app, "url_prefix": URL_PREFIX, "name": "Webhook trigger"},
            {"app": _webhook_app, "url_prefix": TENANT_URL_PREFIX, "name": "Webhook trigger (tenant URL)"},
        ]
        if HAS_EXTERNAL_VIEWS:  # the page's menu entry, and the auth it reuses (bearer_scheme): 3.1+
            fastapi_apps.append(_page)
            external_views = _views
        else:
            log.info("Airflow %d.%d has no external_views (3.1+): the Webhooks page is switched off; "
                     "`airflow-webhooks list` shows the same webhooks", *AIRFLOW_VERSION)
        if not HAS_PROVIDER_CLI:
            log.info("Airflow %d.%d loads no provider CLI groups (3.2+): `airflow webhook-trigger` is not there; "
                     "the `airflow-webhooks` command has the same commands", *AIRFLOW_VERSION)
        del _page, _views, _webhook_app

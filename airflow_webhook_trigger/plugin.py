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

from airflow_webhook_trigger.airflow.versions import AIRFLOW_VERSION, HAS_EXTERNAL_VIEWS, IS_AIRFLOW_2
from airflow_webhook_trigger.http.lazy_app import LazyASGIApp
from airflow_webhook_trigger.ui import plugin_entries
from airflow_webhook_trigger.urls import UI_PREFIX, URL_PREFIX

__all__ = ["WebhookTriggerPlugin"]

log = logging.getLogger(__name__)


class WebhookTriggerPlugin(AirflowPlugin):
    name = "webhook_trigger"

    if IS_AIRFLOW_2:  # pragma: no cover - exercised by the Airflow 2 conformance run
        from airflow_webhook_trigger.http.access_log import mask_keys_in_gunicorn_access_log
        from airflow_webhook_trigger.http.airflow2 import airflow2_blueprint

        flask_blueprints = [airflow2_blueprint()]
        mask_keys_in_gunicorn_access_log()
        del mask_keys_in_gunicorn_access_log, airflow2_blueprint
    else:
        _page, _views = plugin_entries()
        fastapi_apps = [
            {"app": LazyASGIApp("airflow_webhook_trigger.http.asgi:create_webhook_asgi_app"),
             "url_prefix": URL_PREFIX, "name": "Webhook trigger"},
            _page,
        ]
        if HAS_EXTERNAL_VIEWS:
            external_views = _views
        else:
            log.info("Airflow %d.%d has no external_views (3.1+): the Webhooks page is served at %s/ but not "
                     "linked from the UI's menu", *AIRFLOW_VERSION, UI_PREFIX)
        del _page, _views

"""The Airflow plugin: registered through the ``airflow.plugins`` entry point, so ``pip install``
is the whole installation.

On Airflow 3 the webhook app is mounted on the api-server at the exact Kestra path through
``fastapi_apps`` (``flask_blueprints`` would need the FAB provider and live under
``/pluginsv2``). On Airflow 2 the same blueprint is registered on the Flask webserver, exempt from
its CSRF protection. Which one is the business of ``_compat``; this module only declares.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_webhook_trigger import _compat
from airflow_webhook_trigger.http.blueprint import URL_PREFIX

__all__ = ["WebhookTriggerPlugin"]


class WebhookTriggerPlugin(AirflowPlugin):
    name = "webhook_trigger"

    if _compat.AIRFLOW_MAJOR >= 3:
        from airflow_webhook_trigger.http.asgi import LazyASGIApp, create_webhook_asgi_app

        fastapi_apps = [{"app": LazyASGIApp(create_webhook_asgi_app), "url_prefix": URL_PREFIX, "name": "Webhook trigger"}]
        del LazyASGIApp, create_webhook_asgi_app
        from airflow_webhook_trigger.ui import plugin_entries  # the "Webhooks" page (ui/)

        _ui_app, external_views = plugin_entries()
        fastapi_apps.append(_ui_app)
        del plugin_entries, _ui_app
    else:  # pragma: no cover - exercised by the Airflow 2 conformance run
        from airflow_webhook_trigger.http.access_log import mask_keys_in_gunicorn_access_log

        flask_blueprints = [_compat.airflow2_blueprint()]
        mask_keys_in_gunicorn_access_log()
        del mask_keys_in_gunicorn_access_log

"""Serving the blueprint on Airflow 2's Flask webserver (gunicorn), at the exact Kestra path.

The webserver registers plugin blueprints at the root, after ``CSRFProtect`` is set up
(``airflow/www/app.py``), and Flask-WTF protects every POST/PUT app-wide, so the blueprint is
exempted when it is registered, on that app's own extension: importing ``airflow.www.app``
instead would load the whole web UI into the scheduler and workers, which load plugins too.
The blueprint has no login decorator, so FAB asks for none.
"""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from airflow_webhook_trigger.http.blueprint import create_blueprint, json_error
from airflow_webhook_trigger.urls import TENANT_URL_PREFIX, is_webhook_path, mentions_webhook

__all__ = ["airflow2_blueprint", "airflow2_blueprints"]


class _GunicornConnectionClose:
    """Honour the ``Connection: close`` of a webhook answer (the 413 sent before a too-large
    body was read).

    WSGI forbids hop-by-hop headers, so gunicorn drops it, announces keep-alive, then drains at
    most 64 KiB of the unread body and closes the connection anyway: a client reusing it fails.
    Its ``start_response`` is a method of its response object, whose ``force_close()`` makes it
    say ``Connection: close`` and close once the answer is sent. Other servers: no change.
    """

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if not mentions_webhook(environ.get("PATH_INFO", "")):
            return self.wsgi_app(environ, start_response)

        def closing_start_response(status, headers, exc_info=None):
            if any(name.lower() == "connection" and value.lower() == "close" for name, value in headers):
                force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
                if callable(force_close):
                    force_close()
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, closing_start_response)


def airflow2_blueprints() -> list[Blueprint]:
    """Kestra's path, and Kestra 2.x's path with a tenant (``/api/v1/<tenant>/executions/webhook``)."""
    tenant_prefix = TENANT_URL_PREFIX.replace("{tenant}", "<tenant>")
    tenant = create_blueprint("webhook_trigger_tenant", tenant_prefix)
    tenant.record_once(lambda state: _exempt_from_csrf(state, tenant))
    return [airflow2_blueprint(), tenant]  # the first also installs the app-wide hooks for both


def _exempt_from_csrf(state, blueprint: Blueprint) -> None:
    csrf = state.app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(blueprint)


def airflow2_blueprint() -> Blueprint:
    """The blueprint for Airflow 2's webserver, without CSRF, answering JSON under its prefix."""
    blueprint = create_blueprint()

    def exempt_from_csrf(state) -> None:
        _exempt_from_csrf(state, blueprint)
        state.app.wsgi_app = _GunicornConnectionClose(state.app.wsgi_app)

    blueprint.record_once(exempt_from_csrf)

    @blueprint.before_app_request
    def json_answer_when_no_route_matched():
        # TRACE, PROPFIND, a path with a newline...: Werkzeug fails the match before any blueprint
        # is chosen, and Airflow's /api/v1 handler would answer problem+json. Answer as Airflow 3's
        # mounted app does (http/asgi.py), only under the webhook prefix.
        if isinstance(request.routing_exception, HTTPException) and is_webhook_path(request.path):
            return json_error(request.routing_exception)
        return None

    return blueprint

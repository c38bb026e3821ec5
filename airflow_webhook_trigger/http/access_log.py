"""Keeping webhook keys out of Airflow 2's web server access log.

The key is the webhook's only credential and it travels in the URL path, so every access log
line would hold it. On Airflow 3 the api-server's log is masked by ``asgi.MaskKeyInAccessLog``.
Airflow 2's webserver is gunicorn, which logs each request through the ``gunicorn.access``
logger with the request's atoms (``%(r)s`` the request line, ``%(U)s`` the path, ``{raw_uri}e``,
a ``Referer`` header...) as the record's arguments; a filter on that logger rewrites everything
after ``{namespace}/{dag_id}`` in every one of them to ``***`` (``urls.mask_keys``: under a
sub-path, a tenant, odd or encoded slashes alike) before any handler formats the line, whatever ``access_logformat``
the operator chose. The plugin installs it on import, i.e. in gunicorn's master before it forks
its workers (Airflow runs gunicorn with ``--preload``).
"""

from __future__ import annotations

import logging
from typing import Any

from airflow_webhook_trigger.urls import mask_keys, mentions_webhook

__all__ = ["MaskWebhookKeys", "mask_keys", "mask_keys_in_gunicorn_access_log"]


class MaskWebhookKeys(logging.Filter):
    """A logging filter that masks webhook keys in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        args: Any = record.args
        if isinstance(args, dict):  # gunicorn: one dict of atoms
            for name, value in list(args.items()):
                if isinstance(value, str) and mentions_webhook(value):
                    args[name] = mask_keys(value)
        elif isinstance(args, tuple):
            record.args = tuple(mask_keys(a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = mask_keys(record.msg)
        return True


def mask_keys_in_gunicorn_access_log() -> None:
    """Install the filter on ``gunicorn.access`` once per process (harmless where gunicorn is absent)."""
    logger = logging.getLogger("gunicorn.access")
    if not any(isinstance(f, MaskWebhookKeys) for f in logger.filters):
        logger.addFilter(MaskWebhookKeys())

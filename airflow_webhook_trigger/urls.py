"""The webhook URL scheme, in one place: its prefix, building a webhook's URL, hiding its key.

The key is a webhook's only credential and it travels in the URL path, so everything that
prints or logs a webhook URL (answers, the listing, the CLI, the Webhooks page, the access logs
of Airflow 3 and 2) builds or masks it here.
"""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["URL_PREFIX", "TENANT_URL_PREFIX", "UI_PREFIX", "KEY_MASK", "webhook_url", "masked_url", "mask_keys",
           "is_webhook_path"]

URL_PREFIX = "/api/v1/executions/webhook"  # Kestra's path: /{namespace}/{flowId}/{key} follow
# Kestra 2.x's path with a tenant (``main`` by default); ``{tenant}`` is a path parameter for
# Starlette's Mount (Airflow 3) and, spelled ``<tenant>``, for Flask (Airflow 2)
TENANT_URL_PREFIX = "/api/v1/{tenant}/executions/webhook"
UI_PREFIX = "/webhook-trigger-ui"  # where the Webhooks page is mounted on Airflow 3's api-server
KEY_MASK = "***"

# The key hides behind ``executions/webhook/{namespace}/{dag_id}/``, whatever comes before it
# (a sub-path such as ``/airflow``, a tenant ``/api/v1/{tenant}``) and however the rest looks:
# everything after the second segment is masked, up to the query string or the end of the text
# (a space in a request line, a quote in a log line). Separators are ``/`` and an encoded ``%2F``
# (servers decode it into ``/``, and raw paths keep it), so ``ns/..%2F..%2Fx/KEY``,
# ``ns//KEY``, ``ns/dag/KEY/extra`` and ``ns%2Fdag%2FKEY`` all lose everything after ns/dag.
_SEP = r"(?:/|%2[fF])"
_SEGMENT = r"(?:(?!%2[fF])[^/\s?#\"'])*"
_KEY_ANYWHERE = re.compile(
    r"(executions" + _SEP + "webhook" + _SEP + _SEGMENT + _SEP + _SEGMENT + _SEP + r")[^\s?#\"']+", re.IGNORECASE
)
_WEBHOOK_PATH = re.compile(r"^/api/v1/(?:[^/]+/)?executions/webhook/")


def _segment(text: str) -> str:
    return quote(text, safe="")


def _url(base_url: str, namespace: str, dag_id: str, path_key: str) -> str:
    return f"{base_url.rstrip('/')}{URL_PREFIX}/{_segment(namespace)}/{_segment(dag_id)}/{path_key}"


def webhook_url(base_url: str, namespace: str, dag_id: str, key: str) -> str:
    """The URL a sender calls, each part quoted."""
    return _url(base_url, namespace, dag_id, _segment(key))


def masked_url(base_url: str, namespace: str, dag_id: str) -> str:
    """The webhook's URL with ``***`` for the key: what may be shown to anyone who reads the DAG."""
    return _url(base_url, namespace, dag_id, KEY_MASK)


def mask_keys(text: str) -> str:
    """Every ``.../executions/webhook/ns/dag/<anything>`` in ``text`` as ``.../ns/dag/***``."""
    return _KEY_ANYWHERE.sub(r"\1" + KEY_MASK, text) if mentions_webhook(text) else text


def mentions_webhook(text: str) -> bool:
    """Whether ``text`` may hold a webhook path (a cheap test before ``mask_keys``)."""
    return "ebhook" in text or "EBHOOK" in text


def is_webhook_path(path: str) -> bool:
    """Whether ``path`` is under the webhook prefix, with or without a tenant."""
    return _WEBHOOK_PATH.match(path) is not None

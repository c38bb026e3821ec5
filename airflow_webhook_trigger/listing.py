"""Every declared webhook and every invalid declaration, for people (the CLI) and tools.

Why a listing: a raw dict or YAML string in a DAG's params is only parsed by the api-server,
so a mistake there cannot be an import error; it would be a silent 404. The listing is where
it shows up, with its reason. It never shows a key (a key may be a literal secret): URLs carry
``***`` in its place.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_webhook_trigger.index import WebhookIndex

__all__ = ["list_webhooks", "masked_url", "KEY_MASK"]

KEY_MASK = "***"


def masked_url(namespace: str, dag_id: str, base_url: str | None = None) -> str:
    """The webhook's URL with ``***`` for the key; absolute when a base URL is configured."""
    from airflow_webhook_trigger.http.blueprint import URL_PREFIX

    if base_url is None:
        from airflow_webhook_trigger import _compat

        base_url = _compat.ui_base_url()
    path = f"{URL_PREFIX}/{quote(namespace, safe='')}/{quote(dag_id, safe='')}/{KEY_MASK}"
    return f"{base_url.rstrip('/')}{path}"


def list_webhooks(index: WebhookIndex | None = None, *, base_url: str | None = None) -> dict[str, Any]:
    """``{"webhooks": [...], "invalid": [...]}`` for ``index`` (default: a fresh one read now).

    Each webhook: namespace, dag_id, trigger_id, url (key masked), conditions (described),
    disabled, paused, fileloc. Each invalid declaration: dag_id, fileloc, reason.
    """
    if index is None:
        index = WebhookIndex()
        index.refresh()
    webhooks = []
    for entry in index.entries():
        for trigger in entry.triggers:
            webhooks.append(
                {
                    "namespace": entry.namespace,
                    "dag_id": entry.dag_id,
                    "trigger_id": trigger.id,
                    "url": masked_url(entry.namespace, entry.dag_id, base_url),
                    "conditions": [condition.describe() for condition in trigger.conditions],
                    "disabled": trigger.disabled,
                    "paused": index.is_paused(entry.dag_id),
                    "fileloc": entry.fileloc,
                }
            )
    invalid = [{"dag_id": i.dag_id, "fileloc": i.fileloc, "reason": i.reason} for i in index.invalid()]
    return {"webhooks": webhooks, "invalid": invalid}

"""Every declared webhook and every invalid declaration, for people (the CLI) and tools.

Why a listing: a raw dict or YAML string in a DAG's params is only parsed by the api-server,
so a mistake there cannot be an import error; it would be a silent 404. The listing is where
it shows up, with its reason. It never shows a key (a key may be a literal secret): URLs carry
``***`` in its place.
"""

from __future__ import annotations

from typing import Any

from airflow_webhook_trigger.airflow.links import ui_base_url
from airflow_webhook_trigger.index import WebhookIndex
from airflow_webhook_trigger.signatures import reads_a_secret
from airflow_webhook_trigger.urls import masked_url

__all__ = ["list_webhooks"]


def list_webhooks(index: WebhookIndex | None = None, *, base_url: str | None = None) -> dict[str, Any]:
    """``{"webhooks": [...], "invalid": [...]}`` for ``index`` (default: a fresh one read now).

    Each webhook: namespace, dag_id, trigger_id, url (key masked), conditions (described),
    disabled, paused, fileloc, ignored (properties accepted as Kestra does and ignored, such as
    ``returnOutputs`` without ``wait``), asset (the asset a delivery records an event on instead of a
    run, described; None: it starts the DAG), literal_key (the key reads no secret: visible to DAG
    readers). Each invalid declaration: dag_id, fileloc, reason.
    """
    if index is None:
        index = WebhookIndex()
        index.refresh()
    if base_url is None:
        base_url = ui_base_url()
    webhooks = []
    for entry in index.entries():
        for trigger in entry.triggers:
            webhooks.append(
                {
                    "namespace": entry.namespace,
                    "dag_id": entry.dag_id,
                    "trigger_id": trigger.id,
                    "url": masked_url(base_url, entry.namespace, entry.dag_id),
                    "conditions": [condition.describe() for condition in trigger.conditions],
                    "disabled": trigger.disabled,
                    "paused": index.is_paused(entry.dag_id),
                    "fileloc": entry.fileloc,
                    "ignored": list(trigger.ignored),  # accepted as Kestra does, without effect
                    "asset": trigger.asset.describe() if trigger.asset is not None else None,
                    # a key that reads no secret is in the DAG's params: anyone who reads the DAG has it
                    "literal_key": not reads_a_secret(trigger.key),
                }
            )
    invalid = [{"dag_id": i.dag_id, "fileloc": i.fileloc, "reason": i.reason} for i in index.invalid()]
    return {"webhooks": webhooks, "invalid": invalid}

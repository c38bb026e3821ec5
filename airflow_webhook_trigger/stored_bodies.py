"""``fetchType: STORE``: how much of a body to read, where it is stored, and forgetting it.

No statuses here (``dispatch`` chooses them): the HTTP layer asks ``body_limit`` how much it may
read before anything is decided, ``dispatch`` stores the body once the conditions hold and
forgets it when no run of this delivery uses it.
"""

from __future__ import annotations

import logging
import secrets

from airflow_webhook_trigger import config
from airflow_webhook_trigger.airflow import object_storage
from airflow_webhook_trigger.index import WebhookIndex, loaded_index
from airflow_webhook_trigger.request import WebhookRequest

__all__ = ["body_limit", "store_body", "forget_body"]

log = logging.getLogger(__name__)


def body_limit(namespace: str, dag_id: str, *, index: WebhookIndex | None = None) -> int:
    """The most of a body the HTTP layer reads for this DAG: ``max_body_size``, or
    ``max_stored_body_size`` when one of its triggers stores bodies (``dispatch`` then answers 413
    when the key matched another trigger). One look-up; an index not loaded yet (the first
    request of a worker) allows the larger size rather than block the event loop to load it."""
    limit = config.get_int("max_body_size")
    index = index or loaded_index()
    entry = index.lookup(namespace, dag_id) if index is not None else None
    if index is None or (entry is not None and any(t.stores_body for t in entry.triggers)):
        return max(limit, config.get_int("max_stored_body_size"))
    return limit


def store_body(dag_id: str, trigger_id: str, request: WebhookRequest) -> str:
    """Write the raw body under ``{dag_id}/{trigger_id}/{arrival}_{random}``; its URL once durable."""
    name = f"{dag_id}/{trigger_id}/{request.received_at:%Y%m%dT%H%M%S%fZ}_{secrets.token_hex(8)}"
    return object_storage.store(name, request.body)


def forget_body(uri: str) -> None:
    """Delete a stored body no run uses; a failure is logged, never raised over the answer."""
    try:
        object_storage.delete(uri)
    except Exception as exc:  # noqa: BLE001 - never hide the answer behind a failed clean-up
        log.warning("A stored webhook body no run uses could not be deleted (%s): %s", uri, exc)

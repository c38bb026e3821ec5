"""Who sent the request: its signature, checked with every declared secret (a list while one is
rotated), before anything reads the body."""

from __future__ import annotations

import logging
from typing import Any

from airflow_webhook_trigger.declarations import WebhookTrigger
from airflow_webhook_trigger.log_once import WARN_ONCE
from airflow_webhook_trigger.request import WebhookRequest
from airflow_webhook_trigger.signatures import verify_signature
from airflow_webhook_trigger.templating import TemplateRenderError, render

__all__ = ["signed_by_any"]

log = logging.getLogger("airflow_webhook_trigger.dispatch")


def signed_by_any(trigger: WebhookTrigger, request: WebhookRequest, context: dict[str, Any], dag_id: str) -> bool:
    """Whether any of the declared secrets (a list while one is rotated) signed the request.
    Every secret is tried (no early exit), so the time does not say which one matched."""
    signed = False
    for template in trigger.signature.secrets:
        try:
            secret = render(template, context).strip()
        except TemplateRenderError as exc:  # at most once a minute: anyone can send these
            WARN_ONCE.warn(log, ("secret", dag_id, trigger.id, template),
                           "Signature secret of webhook trigger %s of DAG %s failed to render: %s", trigger.id, dag_id, exc)
            continue
        if secret and verify_signature(trigger.signature, secret, request.body, request.header_map):
            signed = True
    return signed

"""Which delivery a request is, for exactly-once runs: the declared ``deliveryId`` template, else
the signature preset's own id header, else (unsigned triggers only) ``Idempotency-Key``."""

from __future__ import annotations

import logging

from airflow_webhook_trigger.declarations import WebhookTrigger
from airflow_webhook_trigger.request import WebhookRequest
from airflow_webhook_trigger.signatures import preset_delivery_id
from airflow_webhook_trigger.templating import TemplateRenderError, render

__all__ = ["delivery_id"]

log = logging.getLogger("airflow_webhook_trigger.dispatch")


def delivery_id(trigger: WebhookTrigger, request: WebhookRequest, variables: dict, context: dict) -> str | None:
    """Declared ``deliveryId`` template, else the preset's own id (with a signature), else
    ``Idempotency-Key`` (without one: a signed trigger does not let an unsigned header pick the run)."""
    if trigger.delivery_id is not None:
        try:
            value = render(trigger.delivery_id, context).strip()
        except TemplateRenderError as exc:
            log.info("deliveryId of webhook trigger %s did not render (%s): no deduplication", trigger.id, exc)
            value = ""
        return value or None
    headers = variables["headers"]
    if trigger.signature is not None:  # never the unsigned Idempotency-Key: anyone could choose it
        return preset_delivery_id(trigger.signature.type, headers, variables["body"]) or None
    return headers.first("idempotency-key") or None

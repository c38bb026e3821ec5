"""Where a delivery id comes from, one trigger per source.

A declared ``deliveryId`` template, a preset's own id (GitHub, Stripe, Standard Webhooks,
GitLab, Shopify), the ``Idempotency-Key`` header, or none at all (every request a new run).
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import validate_declaration

SECRET = "{{ secret('DEDUPE_SECRET') }}"

with DAG(
    dag_id="dedupe_deliveries",
    schedule=None,
    tags=["webhook", "test", "t4"],
    params={
        "webhook": validate_declaration(
            [
                {"id": "declared", "key": "t4-dedupe-declared", "deliveryId": "{{ trigger.body.event_id }}"},
                {"id": "github", "key": "t4-dedupe-github", "signature": {"type": "github", "secret": SECRET}},
                {"id": "stripe", "key": "t4-dedupe-stripe", "signature": {"type": "stripe", "secret": SECRET}},
                {"id": "standard", "key": "t4-dedupe-standard",
                 "signature": {"type": "standard", "secret": "{{ secret('DEDUPE_WHSEC') }}"}},
                {"id": "gitlab", "key": "t4-dedupe-gitlab", "signature": {"type": "gitlab", "secret": SECRET}},
                {"id": "shopify", "key": "t4-dedupe-shopify", "signature": {"type": "shopify", "secret": SECRET}},
                {"id": "plain", "key": "t4-dedupe-plain"},
            ]
        )
    },
):

    @task
    def noop():
        return "ok"

    noop()

"""What a delivery leaves behind: a log line, metrics through Airflow's ``Stats``, an audit entry.

Nothing recorded here holds the key, a secret or the body: only the namespace, DAG, trigger,
outcome and its reason.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_webhook_trigger.dispatch import Outcome
    from airflow_webhook_trigger.request import WebhookRequest

log = logging.getLogger("airflow_webhook_trigger.deliveries")


def delivery(request: WebhookRequest, namespace: str, dag_id: str, outcome: Outcome, seconds: float) -> None:
    """Record one answered request."""
    log.info(
        "webhook %s %s/%s trigger=%s -> %s (%s) run=%s in %.1f ms",
        request.method, namespace, dag_id, outcome.trigger_id, outcome.status, outcome.reason,
        outcome.run_id, seconds * 1000,
    )

"""What a delivery leaves behind: a log line, metrics through Airflow's ``Stats``, an audit entry.

Nothing recorded here holds the key, a secret or the body: only the namespace, DAG, trigger,
outcome and its reason.

Metrics go through the ``Stats`` Airflow configured for the api-server (``[metrics]``: StatsD,
Datadog or OpenTelemetry; nothing at all when metrics are off), so they land wherever the
scheduler's metrics already go:

- ``webhook_trigger.deliveries`` (tags ``outcome``, ``dag_id``), and the same count under
  ``webhook_trigger.deliveries.<outcome>`` for plain StatsD, which drops tags;
- ``webhook_trigger.runs_created``, ``webhook_trigger.asset_events`` (events recorded by
  webhooks with an ``asset`` target), ``webhook_trigger.duplicates``,
  ``webhook_trigger.signature_failures``, ``webhook_trigger.wrong_keys`` (a wrong key to a
  known DAG) (tag ``dag_id``);
- ``webhook_trigger.latency``: a timer, in milliseconds (tag ``outcome``).

A request for a DAG that declares no webhook is tagged ``dag_id=unknown``: anyone can send
those, and a tag per invented DAG id would flood the metrics backend.

Every delivery that reached a known DAG (``outcome.dag_id`` is set: any answer but the 404 for
an unknown namespace or DAG) is queued for Airflow's audit log (``audit.py``), except wrong-key
404s: those are counted into one summary row per DAG per minute.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from airflow_webhook_trigger.airflow import metrics
from airflow_webhook_trigger.audit import AUDIT
from airflow_webhook_trigger.outcome import Outcome

if TYPE_CHECKING:
    from airflow_webhook_trigger.request import WebhookRequest

__all__ = ["delivery", "METRIC_PREFIX"]

log = logging.getLogger("airflow_webhook_trigger.deliveries")

METRIC_PREFIX = "webhook_trigger"
UNKNOWN_DAG = "unknown"


def delivery(request: WebhookRequest, namespace: str, dag_id: str, outcome: Outcome, seconds: float) -> None:
    """Record one answered request. Never raises: recording must not change the answer."""
    # 204 and 404 must cost no more than an empty handler, and a log line through Airflow's
    # logging costs more than the rest of such a request (docs/performance.md). They are in the
    # access log and, for known DAGs, the audit log; here they are DEBUG. So is a 200: Airflow
    # logs each run it creates ("creating dag run", with its run id) and the audit log holds the
    # delivery, so the line only added cost to the run path (docs/performance.md, "Run creation").
    # What a sender could not be served is INFO.
    level = logging.DEBUG if outcome.status in (200, 204, 404) else logging.INFO
    if log.isEnabledFor(level):
        log.log(
            level, "webhook %s %s/%s trigger=%s -> %s (%s) run=%s in %.1f ms",
            request.method, namespace, dag_id, outcome.trigger_id, outcome.status, outcome.reason,
            outcome.run_id or _asset_event(outcome), seconds * 1000,
        )
    name = outcome.outcome_name
    try:
        if metrics.metrics_enabled():
            _metrics(outcome, name, seconds)
    except Exception as exc:  # noqa: BLE001 - a broken metrics backend must not fail webhooks
        log.debug("webhook metrics not sent: %s", exc)
    if outcome.dag_id and _wrong_key(outcome):  # counted, one summary row per DAG per minute
        AUDIT.count_wrong_key(namespace, outcome.dag_id, request.received_at)
    elif outcome.dag_id:
        AUDIT.add((request.received_at, namespace, outcome.dag_id, outcome.trigger_id, outcome.run_id,
                   outcome.status, name, outcome.reason, seconds, request.method))


def _wrong_key(outcome: Outcome) -> bool:
    """A 404 to a known DAG that no trigger's key matched (a 404 naming a trigger: its DAG went)."""
    return outcome.status == 404 and outcome.trigger_id is None


def _metrics(outcome: Outcome, name: str, seconds: float) -> None:
    stats = metrics.stats()
    dag_tag = {"dag_id": outcome.dag_id or UNKNOWN_DAG}
    stats.incr(f"{METRIC_PREFIX}.deliveries", tags={"outcome": name, **dag_tag})
    stats.incr(f"{METRIC_PREFIX}.deliveries.{name}", tags=dag_tag)
    stats.timing(f"{METRIC_PREFIX}.latency", timedelta(seconds=seconds), tags={"outcome": name})
    recorded = outcome.run_id or outcome.asset_event_id is not None
    if recorded and outcome.duplicate:
        stats.incr(f"{METRIC_PREFIX}.duplicates", tags=dag_tag)
    elif outcome.run_id:
        stats.incr(f"{METRIC_PREFIX}.runs_created", tags=dag_tag)
    elif recorded:
        stats.incr(f"{METRIC_PREFIX}.asset_events", tags=dag_tag)
    if outcome.status == 401:
        stats.incr(f"{METRIC_PREFIX}.signature_failures", tags=dag_tag)
    elif outcome.dag_id and _wrong_key(outcome):
        stats.incr(f"{METRIC_PREFIX}.wrong_keys", tags=dag_tag)


def _asset_event(outcome: Outcome) -> str | None:
    return None if outcome.asset_event_id is None else f"asset_event:{outcome.asset_event_id}"

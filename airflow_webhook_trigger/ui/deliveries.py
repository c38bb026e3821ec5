"""Recent deliveries, read back from Airflow's audit log.

Why the audit log and not a table of our own: every delivery that reached a known DAG is already
written there (``audit.py``: event ``webhook``, the DAG and run, the outcome in ``extra``), it is
where Airflow users look (Browse -> Audit Log), it is covered by Airflow's own retention
(``airflow db clean``), and it needs no migration. A page load costs one indexed query for the
newest ``limit`` rows of the DAGs the user may read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_webhook_trigger.airflow.audit_log import read_audit_log
from airflow_webhook_trigger.audit import EVENT

__all__ = ["DEFAULT_LIMIT", "EVENT", "Delivery", "from_row", "recent_deliveries"]

DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Delivery:
    """One answered webhook request, as the audit log keeps it (no key, secret or body)."""

    id: int
    when: datetime | None
    dag_id: str
    namespace: str
    trigger_id: str | None
    run_id: str | None
    status: int | None
    outcome: str
    reason: str
    duration_ms: float | None
    method: str | None
    count: int = 1  # a wrong-key summary row stands for this many 404s (audit.py)

    @property
    def webhook(self) -> tuple[str, str, str | None]:
        """(namespace, dag_id, trigger_id): which row of the webhooks table it belongs to."""
        return self.namespace, self.dag_id, self.trigger_id


def _number(value: Any, kind: type) -> Any:
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def from_row(row_id: int, when: datetime | None, dag_id: str, run_id: str | None, owner: str | None,
             extra: str | None) -> Delivery:
    """A delivery from a ``log`` row; tolerant of rows written by older or newer versions."""
    try:
        data = json.loads(extra) if extra else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    namespace, _, trigger = (owner or "").removeprefix("webhook:").partition("/")
    status = _number(data.get("status"), int)
    count = _number(data.get("count"), int) or 1
    reason = str(data.get("reason") or "")
    if count > 1 or data.get("first"):  # a summary: N wrong keys in one row
        reason = f"{reason}: {count} request{'s' if count != 1 else ''} from {data.get('first')} to {data.get('last')}"
    return Delivery(
        id=row_id,
        when=when,
        dag_id=dag_id,
        namespace=str(data.get("namespace") or namespace),
        trigger_id=data.get("trigger") or trigger or None,
        run_id=run_id,
        status=status,
        outcome=str(data.get("outcome") or (status if status is not None else "unknown")),
        reason=reason,
        duration_ms=_number(data.get("duration_ms"), float),
        method=data.get("method"),
        count=count,
    )


def recent_deliveries(dag_ids: Iterable[str], limit: int = DEFAULT_LIMIT) -> list[Delivery]:
    """The newest ``limit`` deliveries to any of ``dag_ids``, newest first, in one query."""
    dag_ids = sorted(set(dag_ids))
    if not dag_ids or limit <= 0:
        return []
    return [from_row(*row) for row in read_audit_log(EVENT, dag_ids, limit)]

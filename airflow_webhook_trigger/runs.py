"""Where the run is created: its id, its request, and waiting for it to finish.

Run ids: ``webhook__<received time>_<random>`` for a delivery without an id, so the run list
sorts by arrival; ``webhook__<trigger id>__<delivery id>`` when the sender identifies its
delivery, so a redelivery maps to the same run id and the database's unique ``(dag_id,
run_id)`` makes it one run (``airflow/dag_runs``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import datetime
from typing import Any

from airflow_webhook_trigger import storable
from airflow_webhook_trigger.airflow import dag_runs
from airflow_webhook_trigger.airflow.dag_runs import CreatedRun, RunRequest

__all__ = ["RunRequest", "CreatedRun", "make_run_id", "run_request", "create_run", "wait_for_run",
           "FINISHED_STATES"]

_RUN_ID_SAFE = re.compile(r"^[A-Za-z0-9_.~:+-]{1,150}$")
FINISHED_STATES = frozenset({"success", "failed"})


def make_run_id(trigger_id: str, received_at: datetime, delivery_id: str | None = None) -> str:
    """A run id that is unique per delivery and, with a delivery id, the same on every redelivery."""
    if delivery_id:
        digest = hashlib.sha256(delivery_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        part = delivery_id if _RUN_ID_SAFE.fullmatch(delivery_id) else digest
        return f"webhook__{trigger_id}__{part}"
    return f"webhook__{received_at.isoformat()}_{secrets.token_hex(4)}"


def run_request(dag_id: str, namespace: str, trigger_id: str, conf: dict[str, Any], received_at: datetime,
                delivery_id: str | None, labels: tuple[tuple[str, str], ...] = ()) -> RunRequest:
    """The run a delivery asks for; its conf made storable (parameters and inputs may hold NUL)."""
    return RunRequest(
        dag_id=dag_id,
        namespace=namespace,
        trigger_id=trigger_id,
        run_id=make_run_id(trigger_id, received_at, delivery_id),
        conf=storable.scrub(conf),
        received_at=received_at,
        deduplicated=bool(delivery_id),  # as make_run_id decides
        labels=tuple(labels),
    )


def create_run(request: RunRequest) -> CreatedRun:
    """Create the run (or find the existing one for a redelivery), on this Airflow's line."""
    return dag_runs.create_run(request)


def wait_for_run(dag_id: str, run_id: str, timeout: float) -> str | None:
    """Poll the run's state until it finishes or ``timeout`` passes; return the last state.

    Each poll opens and closes its own short session, so a waiting request holds no database
    connection while it sleeps, and the interval grows from 0.1 s to 1 s to keep the load low.
    """
    deadline = time.monotonic() + timeout
    interval = 0.1
    state = dag_runs.run_state(dag_id, run_id)
    while state not in FINISHED_STATES and time.monotonic() < deadline:
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(1.0, interval * 1.5)
        state = dag_runs.run_state(dag_id, run_id)
    return state

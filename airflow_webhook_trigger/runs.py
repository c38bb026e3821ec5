"""Where the run is created: its id, its request, and waiting for it to finish.

Run ids: ``webhook__<received time>_<random>`` for a delivery without an id, so the run list
sorts by arrival; ``webhook__<trigger id>__<delivery id>`` when the sender identifies its
delivery, so a redelivery maps to the same run id and the database's unique ``(dag_id,
run_id)`` makes it one run (``airflow/dag_runs``).

Two different deliveries never share a run id. A delivery id that is not a safe run id (or
starts with ``~``) is hashed into ``~h<sha256>``: Airflow's run ids allow ``~``, literal ids
starting with it are hashed too, so no literal id takes a hash's form. A trigger id holding
``__`` or ending in ``_`` is escaped (``_`` -> ``~u``; trigger ids never hold ``~``), so the
first ``__`` after ``webhook__`` always ends the trigger id: trigger ``a__b`` with delivery
``c`` and trigger ``a`` with delivery ``b__c`` differ.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
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
        if _RUN_ID_SAFE.fullmatch(delivery_id) and not delivery_id.startswith("~"):
            part = delivery_id
        else:
            part = "~h" + hashlib.sha256(delivery_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        return f"webhook__{_trigger_part(trigger_id)}__{part}"
    return f"webhook__{received_at.isoformat()}_{secrets.token_hex(4)}"


def _trigger_part(trigger_id: str) -> str:
    """The trigger id as it is when it cannot be confused with a delivery id, else escaped."""
    if "__" in trigger_id or trigger_id.endswith("_") or "~" in trigger_id:
        return trigger_id.replace("~", "~t").replace("_", "~u")
    return trigger_id


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


def wait_for_run(dag_id: str, run_id: str, timeout: float, cancel: threading.Event | None = None) -> str | None:
    """Poll the run's state until it finishes, ``timeout`` passes or ``cancel`` is set (the
    client has gone: nobody is left to answer); return the last state.

    Each poll opens and closes its own short session, so a waiting request holds no database
    connection while it sleeps, and the interval grows from 0.1 s to 1 s to keep the load low.
    """
    deadline = time.monotonic() + timeout
    interval = 0.1
    cancel = cancel if cancel is not None else threading.Event()  # never set
    state = dag_runs.run_state(dag_id, run_id)
    while state not in FINISHED_STATES and time.monotonic() < deadline and not cancel.is_set():
        if cancel.wait(min(interval, max(0.0, deadline - time.monotonic()))):
            break
        interval = min(1.0, interval * 1.5)
        state = dag_runs.run_state(dag_id, run_id)
    return state

"""Creating the run a webhook asked for, and waiting for it when the trigger says ``wait``.

Run ids: ``webhook__<received time>_<random>`` for a delivery without an id, so the run list
sorts by arrival; ``webhook__<trigger id>__<delivery id>`` when the sender identifies its
delivery, so a redelivery maps to the same run id and the database's unique ``(dag_id,
run_id)`` makes it one run (see ``_compat.create_run``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_webhook_trigger import _compat, storable

__all__ = ["RunRequest", "make_run_id", "create_run", "wait_for_run", "FINISHED_STATES"]

_RUN_ID_SAFE = re.compile(r"^[A-Za-z0-9_.~:+-]{1,150}$")
FINISHED_STATES = frozenset({"success", "failed"})


def make_run_id(trigger_id: str, received_at: datetime, delivery_id: str | None = None) -> str:
    """A run id that is unique per delivery and, with a delivery id, the same on every redelivery."""
    if delivery_id:
        digest = hashlib.sha256(delivery_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        part = delivery_id if _RUN_ID_SAFE.fullmatch(delivery_id) else digest
        return f"webhook__{trigger_id}__{part}"
    return f"webhook__{received_at.isoformat()}_{secrets.token_hex(4)}"


@dataclass(frozen=True)
class RunRequest:
    dag_id: str
    namespace: str
    trigger_id: str
    run_id: str
    conf: dict[str, Any]
    received_at: datetime
    deduplicated: bool = True  # False: the run id has a random part, no earlier delivery can hold it

    @property
    def triggering_user_name(self) -> str:
        return f"webhook:{self.namespace}/{self.trigger_id}"

    @property
    def note(self) -> str:
        return (
            f"Triggered by webhook trigger `{self.trigger_id}` of namespace `{self.namespace}`; "
            f"correlation id `{self.run_id}`."
        )


def create_run(request: RunRequest) -> _compat.CreatedRun:
    """Create the run (or find the existing one for a redelivery). See ``_compat.create_run``."""
    return _compat.create_run(
        request.dag_id,
        run_id=request.run_id,
        conf=storable.scrub(request.conf),  # parameters and inputs may still hold NUL and the like
        triggering_user_name=request.triggering_user_name,
        note=request.note,
        run_after=request.received_at,
        deduplicated=request.deduplicated,
    )


def wait_for_run(dag_id: str, run_id: str, timeout: float) -> str | None:
    """Poll the run's state until it finishes or ``timeout`` passes; return the last state.

    Each poll opens and closes its own short session, so a waiting request holds no database
    connection while it sleeps, and the interval grows from 0.1 s to 1 s to keep the load low.
    """
    deadline = time.monotonic() + timeout
    interval = 0.1
    state = _compat.run_state(dag_id, run_id)
    while state not in FINISHED_STATES and time.monotonic() < deadline:
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(1.0, interval * 1.5)
        state = _compat.run_state(dag_id, run_id)
    return state

"""What run creation takes and gives, on every Airflow line, and reading a run's state.

Below the decision: these are reasons (``DagGone``, ``DagPaused``, ``ConfRefused``), never HTTP
statuses; ``dispatch`` chooses what to answer for each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from airflow_webhook_trigger.airflow.database import create_session

__all__ = ["RunRequest", "CreatedRun", "DagGone", "DagPaused", "ConfRefused", "existing_run_state", "run_state"]


@dataclass(frozen=True)
class RunRequest:
    """Everything needed to create one webhook run, passed whole to the Airflow line's creator."""

    dag_id: str
    namespace: str
    trigger_id: str
    run_id: str
    conf: dict[str, Any]
    received_at: datetime
    deduplicated: bool = True  # False: the run id has a random part, no earlier delivery can hold it
    labels: tuple[tuple[str, str], ...] = ()  # rendered (key, value): Airflow runs have none, the note shows them

    @property
    def triggering_user_name(self) -> str:
        return f"webhook:{self.namespace}/{self.trigger_id}"

    @property
    def note(self) -> str:
        note = (
            f"Triggered by webhook trigger `{self.trigger_id}` of namespace `{self.namespace}`; "
            f"correlation id `{self.run_id}`."
        )
        if self.labels:
            shown = ", ".join(f"`{key}`: `{value}`" for key, value in self.labels)
            note += f"\n\nLabels: {shown}"
        return note


@dataclass(frozen=True)
class CreatedRun:
    run_id: str
    state: str
    created: bool  # False: a run with this id existed already (a redelivery)
    version: int | None = None  # Kestra's flowRevision: the DAG version number (Airflow 3) the run uses


class DagGone(Exception):
    """The DAG is gone or stale at the moment the run would be created."""


class DagPaused(Exception):
    """The DAG was paused at the moment the run would be created."""


class ConfRefused(Exception):
    """The DAG's params refused the conf (or the DAG refuses manual runs)."""


def existing_run_state(session, dag_id: str, run_id: str) -> str | None:
    """The state of the run ``(dag_id, run_id)`` as text, or None: one query, in ``session``."""
    from airflow.models.dagrun import DagRun  # the ORM: only where runs are read

    state = session.scalar(select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    return None if state is None else str(state)


def run_state(dag_id: str, run_id: str) -> str | None:
    """The run's current state (``queued``, ``running``, ``success``, ``failed``...), or None."""
    with create_session() as session:
        return existing_run_state(session, dag_id, run_id)

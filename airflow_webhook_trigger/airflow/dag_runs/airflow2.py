"""Creating a webhook run on Airflow 2.10/2.11.

``dag.create_dagrun`` with ``execution_date`` = the delivery's arrival time. ``dag_run`` is
unique on ``(dag_id, execution_date)`` as well as ``(dag_id, run_id)``, and ``trigger_dag``
would zero the microseconds. So the arrival time keeps its microseconds and moves on by 1 µs
past any run holding that instant (two deliveries in one microsecond, or a concurrent worker
winning the race), while a redelivery's run id is still found and answered as the duplicate.
2.x has no ``triggered_by``/``triggering_user_name``: the note says who.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from airflow_webhook_trigger.airflow.dag_runs.common import (
    ConfRefused,
    CreatedRun,
    DagGone,
    DagPaused,
    RunRequest,
    existing_run_state,
    run_state,
)
from airflow_webhook_trigger.airflow.database import create_session, is_unique_violation

__all__ = ["create_run"]

_ATTEMPTS = 20
_DAGS: dict[str, tuple[str, Any]] = {}  # dag_id -> (dag_hash, deserialized DAG)


def _latest_dag(session, dag_id: str) -> tuple[str | None, Any]:
    """Airflow 2 keeps one serialized row per DAG: deserialize it once per ``dag_hash``."""
    from airflow.models.serialized_dag import SerializedDagModel  # the ORM: webserver only

    dag_hash = session.scalar(select(SerializedDagModel.dag_hash).where(SerializedDagModel.dag_id == dag_id))
    cached = _DAGS.get(dag_id)
    if dag_hash is None or (cached is not None and cached[0] == dag_hash):
        return cached if dag_hash is not None else (None, None)
    row = session.scalar(select(SerializedDagModel).where(SerializedDagModel.dag_id == dag_id))
    if row is None:
        return None, None
    _DAGS[dag_id] = (row.dag_hash, row.dag)
    return _DAGS[dag_id]


def _load_fab_user_model() -> None:
    """Map FAB's ``ab_user`` (the webserver has; a CLI process may not) so a note can be written."""
    try:
        import airflow.providers.fab.auth_manager.models  # noqa: F401  (registers the table)
    except ImportError:  # no FAB provider: then nothing references ab_user either
        pass


def create_run(request: RunRequest) -> CreatedRun:
    """Create a queued manual run, or find the run with that id (a redelivery)."""
    from airflow.exceptions import ParamValidationError  # the ORM and models: webserver only
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.utils import timezone
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType

    dag_id, run_id = request.dag_id, request.run_id
    execution_date = timezone.coerce_datetime(request.received_at)
    for attempt in range(_ATTEMPTS):
        try:
            with create_session() as session:
                existing = existing_run_state(session, dag_id, run_id)
                if existing is not None:
                    return CreatedRun(run_id, existing, created=False)
                model = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
                if model is None or not model.is_active:
                    raise DagGone(dag_id)
                if model.is_paused:
                    raise DagPaused(dag_id)
                dag_hash, dag = _latest_dag(session, dag_id)
                if dag is None:
                    raise DagGone(dag_id)
                taken = set(session.scalars(select(DagRun.execution_date).where(
                    DagRun.dag_id == dag_id, DagRun.execution_date >= execution_date,
                    DagRun.execution_date < execution_date + timedelta(seconds=1))))
                while execution_date in taken:
                    execution_date += timedelta(microseconds=1)
                try:
                    run = dag.create_dagrun(
                        run_id=run_id,
                        execution_date=execution_date,
                        data_interval=dag.timetable.infer_manual_data_interval(run_after=execution_date),
                        conf=request.conf,
                        run_type=DagRunType.MANUAL,
                        external_trigger=True,
                        state=DagRunState.QUEUED,
                        dag_hash=dag_hash,
                        session=session,
                    )
                except (ParamValidationError, ValueError, TypeError) as exc:
                    raise ConfRefused(str(exc)) from None
                _load_fab_user_model()  # dag_run_note.user_id references FAB's ab_user
                run.note = (request.note[:1000], None)
                state = str(run.state)
        except Exception as exc:
            if not is_unique_violation(exc) or attempt == _ATTEMPTS - 1:
                raise
            state = run_state(dag_id, run_id)
            if state is not None:  # a concurrent delivery with the same run id won
                return CreatedRun(run_id, state, created=False)
            execution_date += timedelta(microseconds=1)  # another run took this instant meanwhile
            continue
        return CreatedRun(run_id, state, created=True)
    raise AssertionError("unreachable")

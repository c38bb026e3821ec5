"""Creating a webhook run on Airflow 3.

The DAG's flags and its newest version come in one query (every round trip counts on this
path), the DAG is deserialized once per version by a long-lived ``DBDagBag``, and the run is
created with ``dag.create_dagrun`` as Airflow's own trigger API does. The unique ``(dag_id,
run_id)`` of ``dag_run`` makes a redelivery one run across workers and replicas.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select

from airflow_webhook_trigger.airflow.dag_runs.common import (
    ConfRefused,
    CreatedRun,
    DagGone,
    DagPaused,
    RunRequest,
    existing_run_state,
    run_state,
)
from airflow_webhook_trigger.airflow.database import DatabaseConflict, create_session, is_unique_violation
from airflow_webhook_trigger.airflow.versions import (
    CREATE_DAGRUN_TAKES_NOTE,
    CREATE_DAGRUN_TAKES_USER_NAME,
    HAS_ALLOWED_RUN_TYPES,
    HAS_DB_DAG_BAG,
)

__all__ = ["create_run"]

_DAG_BAG = None


def _dag_bag():
    """One long-lived DAG bag per process, so a DAG is deserialized once per version."""
    global _DAG_BAG
    if _DAG_BAG is None:
        if HAS_DB_DAG_BAG:
            from airflow.models.dagbag import DBDagBag  # the ORM: api-server only

            _DAG_BAG = DBDagBag(load_op_links=False)
        else:
            _DAG_BAG = _DagsByVersion()
    return _DAG_BAG


class _DagsByVersion:
    """3.0/3.1's stand-in for 3.2's ``DBDagBag``: a DAG deserialized once per version."""

    def __init__(self) -> None:
        self._dags: dict = {}

    def get_dag(self, version_id, session):
        dag = self._dags.get(version_id)
        if dag is None:
            from airflow.models.dag_version import DagVersion  # the ORM: api-server only

            version = session.get(DagVersion, version_id)
            serialized = None if version is None else version.serialized_dag
            if serialized is None:
                return None
            serialized.load_op_links = False
            dag = self._dags[version_id] = serialized.dag
        return dag


def _run_kwargs(request: RunRequest) -> dict:
    """``create_dagrun`` arguments newer than 3.0: ``triggering_user_name`` (3.1), ``note`` (3.2)."""
    kwargs: dict = {}
    if CREATE_DAGRUN_TAKES_USER_NAME:
        kwargs["triggering_user_name"] = request.triggering_user_name
    if CREATE_DAGRUN_TAKES_NOTE:
        kwargs["note"] = request.note
    return kwargs


_STATE_AND_VERSION = None


def _state_and_version_statement():
    """The statement of ``_dag_state_and_version``, built once per process.

    Why once: building a SQLAlchemy ``select`` with joins costs about as much Python as running
    it, on the path that creates runs; a Core statement over the tables' columns with a bound
    ``dag_id`` is compiled once (SQLAlchemy caches it per dialect) and skips the ORM's
    per-execution compile state. Filtered on ``dag_version.dag_id``, which is indexed (unique with
    ``version_number``); a filter on ``serialized_dag.dag_id`` scans every serialized DAG.
    """
    global _STATE_AND_VERSION
    if _STATE_AND_VERSION is None:
        from airflow.models.dag import DagModel  # the ORM: api-server only
        from airflow.models.dag_version import DagVersion
        from airflow.models.serialized_dag import SerializedDagModel

        dag, version, serialized = DagModel.__table__.c, DagVersion.__table__.c, SerializedDagModel.__table__.c
        # allowed_run_types arrived in 3.2; before, every DAG accepts manual runs
        columns = [dag.is_stale, dag.is_paused, version.id, version.version_number]
        if HAS_ALLOWED_RUN_TYPES:
            columns.append(dag.allowed_run_types)
        _STATE_AND_VERSION = (
            select(*columns)
            .select_from(DagModel.__table__)
            .join(DagVersion.__table__, version.dag_id == dag.dag_id)
            .join(SerializedDagModel.__table__, serialized.dag_version_id == version.id)
            .where(version.dag_id == bindparam("dag_id"), dag.dag_id == bindparam("dag_id"))
            .order_by(version.version_number.desc())
            .limit(1)
        )
    return _STATE_AND_VERSION


def _dag_state_and_version(session, dag_id: str):
    """``(is_stale, is_paused, allowed_run_types, newest serialized version id, its number)`` in
    one query, or None (no DAG row, or no serialized version: the DAG is not servable)."""
    row = session.execute(_state_and_version_statement(), {"dag_id": dag_id}).one_or_none()
    if row is None:
        return None
    return row[0], row[1], (row[4] if HAS_ALLOWED_RUN_TYPES else None), row[2], row[3]


def create_run(request: RunRequest) -> CreatedRun:
    """Create a queued manual run, or find the run with that id (a redelivery).

    A concurrent delivery of the same id fails on the unique ``(dag_id, run_id)`` and is answered
    with the winner's run; a unique violation on anything else is never answered as a run.
    """
    try:
        return _create(request)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        state = run_state(request.dag_id, request.run_id)  # the winner has committed: visible now
        if state is None:  # not our run id: never answer 200 without a run behind it
            raise DatabaseConflict(f"creating the run failed on a constraint: {type(exc).__name__}") from exc
        return CreatedRun(request.run_id, state, created=False)


def _create(request: RunRequest) -> CreatedRun:
    from airflow.sdk.definitions.param import ParamValidationError  # api-server only
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    dag_id, run_id = request.dag_id, request.run_id
    with create_session() as session:
        if request.deduplicated:
            existing = existing_run_state(session, dag_id, run_id)
            if existing is not None:
                return CreatedRun(run_id, existing, created=False)
        found = _dag_state_and_version(session, dag_id)
        if found is None or found[0]:
            raise DagGone(dag_id)
        is_stale, is_paused, allowed_run_types, version_id, version_number = found
        if is_paused:
            raise DagPaused(dag_id)
        if allowed_run_types is not None and DagRunType.MANUAL not in allowed_run_types:
            raise ConfRefused(f"DAG {dag_id!r} does not allow manual runs (allowed_run_types)")
        dag = None if version_id is None else _dag_bag().get_dag(version_id, session=session)
        if dag is None:
            raise DagGone(dag_id)
        try:
            run = dag.create_dagrun(
                run_id=run_id,
                logical_date=None,
                data_interval=None,
                run_after=request.received_at,
                conf=request.conf,
                run_type=DagRunType.MANUAL,
                triggered_by=DagRunTriggeredByType.REST_API,
                state=DagRunState.QUEUED,
                session=session,
                **_run_kwargs(request),
            )
        except (ParamValidationError, ValueError, TypeError) as exc:
            raise ConfRefused(str(exc)) from None
        if not CREATE_DAGRUN_TAKES_NOTE:  # 3.0/3.1: the note through DagRunNote(content, user_id)
            run.note = (request.note[:1000], None)
        return CreatedRun(run_id, str(run.state), created=True, version=version_number)

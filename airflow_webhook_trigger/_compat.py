"""Every difference between Airflow releases, in one place.

The rest of the package calls these functions and never checks Airflow's version itself.
Everything Airflow-specific that the core needs (reading serialized DAGs, DAG states, creating
a run, variables and connections, the audit log, ``Stats``) goes through here, imported lazily so
that importing the plugin stays cheap in every Airflow process (scheduler, workers, parser).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

__all__ = [
    "AIRFLOW_MAJOR",
    "CreatedRun",
    "DagState",
    "SerializedHead",
    "airflow_version",
]


@lru_cache(maxsize=1)
def airflow_version() -> tuple[int, int]:
    from importlib.metadata import version

    major, minor, *_ = version("apache-airflow").split(".")
    return int(major), int(minor)


AIRFLOW_MAJOR = airflow_version()[0]


# --- the database ------------------------------------------------------------------------------


def create_session():
    """A context manager giving an ORM session that commits on success and rolls back on error."""
    from airflow.utils.session import create_session as _create_session

    return _create_session()


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database is busy, locked or down" (answer 503, sender retries)."""
    from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeout

    if isinstance(exc, (OperationalError, PoolTimeout)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    text = str(exc).lower()
    return "database is locked" in text or "could not connect" in text or "connection refused" in text


def is_unique_violation(exc: BaseException) -> bool:
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError)


@dataclass(frozen=True)
class SerializedHead:
    """The newest serialized version of one DAG, without its (large) data."""

    dag_id: str
    row_id: str
    dag_hash: str


@dataclass(frozen=True)
class DagState:
    is_paused: bool
    is_active: bool  # Airflow 3: not is_stale; Airflow 2: is_active


def serialized_fingerprint(session) -> tuple[Any, ...]:
    """A cheap value that changes whenever a serialized DAG is added, updated or deleted."""
    from sqlalchemy import func, select

    from airflow.models.serialized_dag import SerializedDagModel as SDM

    return tuple(session.execute(select(func.count(SDM.dag_id), func.max(SDM.last_updated))).one())


def serialized_heads(session) -> dict[str, SerializedHead]:
    """dag_id -> its newest serialized version (one row per DAG on Airflow 2; per version on 3)."""
    from sqlalchemy import select

    from airflow.models.serialized_dag import SerializedDagModel as SDM

    heads: dict[str, SerializedHead] = {}
    if AIRFLOW_MAJOR >= 3:
        from airflow.models.dag_version import DagVersion

        rows = session.execute(
            select(SDM.dag_id, SDM.id, SDM.dag_hash)
            .join(DagVersion, SDM.dag_version_id == DagVersion.id)
            .order_by(SDM.dag_id, DagVersion.version_number)
        )
    else:
        rows = session.execute(select(SDM.dag_id, SDM.dag_id, SDM.dag_hash))
    for dag_id, row_id, dag_hash in rows:
        heads[dag_id] = SerializedHead(dag_id, str(row_id), dag_hash)  # the last one wins
    return heads


def serialized_data(session, heads: Iterable[SerializedHead]) -> dict[str, dict]:
    """row_id -> the serialized DAG as a dict, for the given heads (in batches)."""
    from sqlalchemy import select

    from airflow.models.serialized_dag import SerializedDagModel as SDM

    key = SDM.id if AIRFLOW_MAJOR >= 3 else SDM.dag_id
    ids = [h.row_id for h in heads]
    result: dict[str, dict] = {}
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        wanted = [_uuid(i) for i in batch] if AIRFLOW_MAJOR >= 3 else batch
        for row_id, data, compressed in session.execute(
            select(key, SDM._data, SDM._data_compressed).where(key.in_(wanted))
        ):
            if compressed:
                data = json.loads(zlib.decompress(compressed))
            elif isinstance(data, str):
                data = json.loads(data)
            result[str(row_id)] = data or {}
    return result


def _uuid(value: str):
    from uuid import UUID

    return UUID(value)


def dag_states(session) -> dict[str, DagState]:
    from sqlalchemy import select

    from airflow.models.dag import DagModel

    if AIRFLOW_MAJOR >= 3:
        rows = session.execute(select(DagModel.dag_id, DagModel.is_paused, DagModel.is_stale))
        return {dag_id: DagState(bool(paused), not stale) for dag_id, paused, stale in rows}
    rows = session.execute(select(DagModel.dag_id, DagModel.is_paused, DagModel.is_active))
    return {dag_id: DagState(bool(paused), bool(active)) for dag_id, paused, active in rows}


def decode_param_default(encoded_params: Any, name: str) -> tuple[bool, Any]:
    """Find param ``name`` in a serialized DAG's params and decode its value.

    Returns ``(found, value)``. Decoding one param avoids deserializing the whole DAG.
    """
    from airflow.serialization.serialized_objects import BaseSerialization

    pairs = encoded_params.items() if isinstance(encoded_params, dict) else (encoded_params or ())
    for param_name, encoded in pairs:
        if param_name != name:
            continue
        if isinstance(encoded, dict) and "__class" in encoded:
            value = encoded.get("default")
            if isinstance(value, dict) and "__type" in value:
                value = BaseSerialization.deserialize(value)
            elif isinstance(value, list) and value and all(isinstance(v, dict) and "__type" in v for v in value):
                value = BaseSerialization.deserialize(value)
            return True, value
        return True, encoded
    return False, None


# --- runs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedRun:
    run_id: str
    state: str
    created: bool  # False: a run with this id existed already (a redelivery)


class DagNotServed(Exception):
    """The DAG is gone, stale or paused at the moment the run would be created."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class ConfRefused(Exception):
    """The DAG's params refused the conf (or the DAG refuses manual runs)."""


_DAG_BAG = None


def _dag_bag():
    """One long-lived DAG bag per process, so a DAG is deserialized once per version."""
    global _DAG_BAG
    if _DAG_BAG is None:
        from airflow.models.dagbag import DBDagBag

        _DAG_BAG = DBDagBag(load_op_links=False)
    return _DAG_BAG


def _latest_dag(session, dag_id: str):
    """The newest version of the DAG, deserialized once per version and then served from memory."""
    from sqlalchemy import select

    from airflow.models.dag_version import DagVersion
    from airflow.models.serialized_dag import SerializedDagModel as SDM

    version_id = session.scalar(
        select(SDM.dag_version_id)
        .join(DagVersion, SDM.dag_version_id == DagVersion.id)
        .where(SDM.dag_id == dag_id)
        .order_by(DagVersion.version_number.desc())
        .limit(1)
    )
    return None if version_id is None else _dag_bag().get_dag(version_id, session=session)


def create_run(
    dag_id: str,
    *,
    run_id: str,
    conf: dict,
    triggering_user_name: str,
    note: str | None,
    run_after: datetime,
) -> CreatedRun:
    """Create a queued manual run, or find the run with that id if it exists already.

    The unique ``(dag_id, run_id)`` of ``dag_run`` is what makes a redelivered event one run,
    across every api-server worker and replica: a concurrent duplicate fails on it and is
    answered with the existing run.
    """
    from sqlalchemy import select

    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.sdk.definitions.param import ParamValidationError
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    try:
        with create_session() as session:
            existing = session.scalar(select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
            if existing is not None:
                return CreatedRun(run_id, str(existing), created=False)
            model = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
            if model is None or model.is_stale:
                raise DagNotServed("webhook not found", 404)
            if model.is_paused:
                raise DagNotServed(f"DAG {dag_id!r} is paused: unpause it to accept webhook runs", 409)
            if model.allowed_run_types is not None and DagRunType.MANUAL not in model.allowed_run_types:
                raise ConfRefused(f"DAG {dag_id!r} does not allow manual runs (allowed_run_types)")
            dag = _latest_dag(session, dag_id)
            if dag is None:
                raise DagNotServed("webhook not found", 404)
            try:
                run = dag.create_dagrun(
                    run_id=run_id,
                    logical_date=None,
                    data_interval=None,
                    run_after=run_after,
                    conf=conf,
                    run_type=DagRunType.MANUAL,
                    triggered_by=DagRunTriggeredByType.REST_API,
                    triggering_user_name=triggering_user_name,
                    note=note,
                    state=DagRunState.QUEUED,
                    session=session,
                )
            except (ParamValidationError, ValueError, TypeError) as exc:
                raise ConfRefused(str(exc)) from None
            state = str(run.state)
    except Exception as exc:
        if is_unique_violation(exc):
            return CreatedRun(run_id, _run_state(dag_id, run_id) or "queued", created=False)
        raise
    return CreatedRun(run_id, state, created=True)


def _run_state(dag_id: str, run_id: str) -> str | None:
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun

    with create_session() as session:
        state = session.scalar(select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    return None if state is None else str(state)


def run_state(dag_id: str, run_id: str) -> str | None:
    """The run's current state (``queued``, ``running``, ``success``, ``failed``...), or None."""
    return _run_state(dag_id, run_id)


def return_values(dag_id: str, run_id: str) -> dict[str, Any]:
    """task_id -> XCom ``return_value`` of every task of the run that returned one."""
    return {task_id: value for task_id, value in xcom_values(dag_id, run_id, "return_value").items()}


def xcom_values(dag_id: str, run_id: str, key: str) -> dict[str, Any]:
    from sqlalchemy import select

    from airflow.models.xcom import XComModel

    with create_session() as session:
        rows = session.execute(
            select(XComModel.task_id, XComModel.value, XComModel.map_index).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == key
            )
        ).all()
    values: dict[str, Any] = {}
    for task_id, value, map_index in rows:
        decoded = XComModel.deserialize_value(_Row(value)) if not isinstance(value, (dict, list)) else value
        if map_index is not None and map_index >= 0:
            values.setdefault(task_id, []).append(decoded)
        else:
            values[task_id] = decoded
    return values


class _Row:
    def __init__(self, value: Any) -> None:
        self.value = value


# --- variables, connections ------------------------------------------------------------------


def get_variable(name: str) -> str | None:
    """An Airflow Variable through the configured secrets backends, or None."""
    from airflow.models.variable import Variable

    return Variable.get(name, default_var=None)


def get_connection(conn_id: str) -> Any:
    from airflow.models.connection import Connection

    return Connection.get_connection_from_secrets(conn_id)


def ui_base_url() -> str:
    """The Airflow UI's public base URL from config ([webhook_trigger] base_url, [api] base_url)."""
    from airflow.configuration import conf

    return (conf.get("webhook_trigger", "base_url", fallback="") or conf.get("api", "base_url", fallback="") or "").rstrip("/")


def run_url_path(dag_id: str, run_id: str) -> str:
    from urllib.parse import quote

    return f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"

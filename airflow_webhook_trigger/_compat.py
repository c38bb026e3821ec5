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


# What SQLite says when another connection holds the write lock longer than the busy timeout
# (Python's sqlite3 waits 5 s by default; Airflow sets no other), or the file cannot be reached.
# Its OperationalError also means "no such table" and other faults a retry will not cure.
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "database schema is locked",
                       "unable to open database file", "disk i/o error")


class DatabaseConflict(Exception):
    """A write failed on a constraint other than the run's own id (e.g. the DAG changed meanwhile)."""


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database is busy, locked or down" (answer 503, sender retries).

    Decided by the exception's class, never by text alone: request data can end up in the
    message of an unrelated error (``int('database is locked')``).
    """
    import sqlite3

    from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeout

    if isinstance(exc, (PoolTimeout, DatabaseConflict)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(driver_error, sqlite3.Error):
        text = str(driver_error).lower()
        return isinstance(driver_error, sqlite3.OperationalError) and any(t in text for t in _SQLITE_UNAVAILABLE)
    # PostgreSQL and MySQL drivers raise OperationalError for a lost, refused or overloaded
    # connection, a deadlock or a lock/statement timeout: all cured by retrying later.
    return isinstance(exc, OperationalError)


def is_unique_violation(exc: BaseException) -> bool:
    from sqlalchemy.exc import IntegrityError

    return isinstance(exc, IntegrityError)


@dataclass(frozen=True)
class SerializedHead:
    """The newest serialized version of one DAG, without its (large) data."""

    dag_id: str
    row_id: str
    dag_hash: str


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


def dag_flags(session) -> tuple[frozenset[str], frozenset[str]]:
    """``(paused DAG ids, DAG ids no longer active)``: the only DAG rows a refresh needs.

    Why not every DAG's flags: the index refreshes every 2 s in every api-server worker, and at
    5,000 DAGs reading 5,000 rows into Python each time cost ~20-40 ms of a worker's CPU (with
    the GIL held) per refresh. The database filters instead, and answers the few paused or stale
    ones. A DAG that has a serialized version is in the ``dag`` table too (Airflow writes that
    row first), so "not listed here" means active and not paused.
    """
    from sqlalchemy import or_, select

    from airflow.models.dag import DagModel

    paused = DagModel.is_paused.is_(True)
    if AIRFLOW_MAJOR >= 3:
        inactive = DagModel.is_stale.is_(True)
    else:
        inactive = DagModel.is_active.isnot(True)  # NULL counts as inactive there, as before
    rows = session.execute(select(DagModel.dag_id, paused, inactive).where(or_(paused, inactive))).all()
    return (frozenset(dag_id for dag_id, is_paused, _ in rows if is_paused),
            frozenset(dag_id for dag_id, _, is_inactive in rows if is_inactive))


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


def _dag_model_and_version(session, dag_id: str):
    """``(is_stale, is_paused, allowed_run_types, newest version id)`` in ONE query, or None.

    Why one: on the run-creating path every round trip counts (profiled: the webhook's own
    queries were a tenth of a run's cost on SQLite; docs/performance.md).
    """
    from sqlalchemy import select

    from airflow.models.dag import DagModel
    from airflow.models.dag_version import DagVersion
    from airflow.models.serialized_dag import SerializedDagModel as SDM

    # Filtered on dag_version.dag_id, not serialized_dag.dag_id: only the former is indexed (its
    # unique (dag_id, version_number)), so this is an index look-up, where the other scanned every
    # serialized DAG (measured: 200 latency x2.8 at 5,000 DAGs on SQLite).
    newest = (
        select(SDM.dag_version_id)
        .join(DagVersion, SDM.dag_version_id == DagVersion.id)
        .where(DagVersion.dag_id == dag_id)
        .order_by(DagVersion.version_number.desc())
        .limit(1)
        .scalar_subquery()
    )
    return session.execute(
        select(DagModel.is_stale, DagModel.is_paused, DagModel.allowed_run_types, newest).where(DagModel.dag_id == dag_id)
    ).one_or_none()


def create_run(
    dag_id: str,
    *,
    run_id: str,
    conf: dict,
    triggering_user_name: str,
    note: str | None,
    run_after: datetime,
    deduplicated: bool = True,
) -> CreatedRun:
    """Create a queued manual run, or find the run with that id if it exists already.

    The unique ``(dag_id, run_id)`` of ``dag_run`` is what makes a redelivered event one run,
    across every api-server worker and replica: a concurrent duplicate fails on it and is
    answered with the existing run. ``deduplicated=False`` (a run id with a random part, which
    no earlier delivery can hold) skips the look-up for an existing run; the constraint stays.
    """
    if AIRFLOW_MAJOR < 3:
        return _create_run_airflow2(dag_id, run_id=run_id, conf=conf, note=note, run_after=run_after)
    from airflow.sdk.definitions.param import ParamValidationError
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    try:
        with create_session() as session:
            if deduplicated:
                existing = _existing_run_state(session, dag_id, run_id)
                if existing is not None:
                    return CreatedRun(run_id, existing, created=False)
            found = _dag_model_and_version(session, dag_id)
            if found is None or found.is_stale:
                raise DagNotServed("webhook not found", 404)
            if found.is_paused:
                raise DagNotServed(f"DAG {dag_id!r} is paused: unpause it to accept webhook runs", 409)
            if found.allowed_run_types is not None and DagRunType.MANUAL not in found.allowed_run_types:
                raise ConfRefused(f"DAG {dag_id!r} does not allow manual runs (allowed_run_types)")
            version_id = found[3]
            dag = None if version_id is None else _dag_bag().get_dag(version_id, session=session)
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
        if not is_unique_violation(exc):
            raise
        state = run_state(dag_id, run_id)  # the winner has committed: its row is visible now
        if state is None:  # not our run id: never answer 200 without a run behind it
            raise DatabaseConflict(f"creating the run failed on a constraint: {type(exc).__name__}") from exc
        return CreatedRun(run_id, state, created=False)
    return CreatedRun(run_id, state, created=True)


_DAGS_AIRFLOW2: dict[str, tuple[str, Any]] = {}  # dag_id -> (dag_hash, deserialized DAG)


def _latest_dag_airflow2(session, dag_id: str) -> tuple[str | None, Any]:
    """Airflow 2 keeps one serialized row per DAG: deserialize it once per ``dag_hash``."""
    from sqlalchemy import select

    from airflow.models.serialized_dag import SerializedDagModel as SDM

    dag_hash = session.scalar(select(SDM.dag_hash).where(SDM.dag_id == dag_id))
    cached = _DAGS_AIRFLOW2.get(dag_id)
    if dag_hash is None or (cached is not None and cached[0] == dag_hash):
        return cached if dag_hash is not None else (None, None)
    row = session.scalar(select(SDM).where(SDM.dag_id == dag_id))
    if row is None:
        return None, None
    _DAGS_AIRFLOW2[dag_id] = (row.dag_hash, row.dag)
    return _DAGS_AIRFLOW2[dag_id]


def _create_run_airflow2(dag_id: str, *, run_id: str, conf: dict, note: str | None, run_after: datetime) -> CreatedRun:
    """Airflow 2: ``dag.create_dagrun`` with ``execution_date`` = the delivery's arrival time.

    ``dag_run`` is unique on ``(dag_id, execution_date)`` as well as ``(dag_id, run_id)``, and
    ``trigger_dag`` would zero the microseconds. So the arrival time keeps its microseconds and
    moves on by 1 µs past any run holding that instant (two deliveries in one microsecond, or a
    concurrent worker winning the race), while a redelivery's run id is still found and answered
    as the duplicate. 2.x has no ``triggered_by``/``triggering_user_name``: the note says who.
    """
    from datetime import timedelta

    from sqlalchemy import select

    from airflow.exceptions import ParamValidationError
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.utils import timezone
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType

    execution_date = timezone.coerce_datetime(run_after)
    for attempt in range(20):
        try:
            with create_session() as session:
                existing = _existing_run_state(session, dag_id, run_id)
                if existing is not None:
                    return CreatedRun(run_id, existing, created=False)
                model = session.scalar(select(DagModel).where(DagModel.dag_id == dag_id))
                if model is None or not model.is_active:
                    raise DagNotServed("webhook not found", 404)
                if model.is_paused:
                    raise DagNotServed(f"DAG {dag_id!r} is paused: unpause it to accept webhook runs", 409)
                dag_hash, dag = _latest_dag_airflow2(session, dag_id)
                if dag is None:
                    raise DagNotServed("webhook not found", 404)
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
                        conf=conf,
                        run_type=DagRunType.MANUAL,
                        external_trigger=True,
                        state=DagRunState.QUEUED,
                        dag_hash=dag_hash,
                        session=session,
                    )
                except (ParamValidationError, ValueError, TypeError) as exc:
                    raise ConfRefused(str(exc)) from None
                if note:
                    _load_fab_user_model()  # dag_run_note.user_id references FAB's ab_user
                    run.note = (note[:1000], None)
                state = str(run.state)
        except Exception as exc:
            if not is_unique_violation(exc) or attempt == 19:
                raise
            state = run_state(dag_id, run_id)
            if state is not None:  # a concurrent delivery with the same run id won
                return CreatedRun(run_id, state, created=False)
            execution_date += timedelta(microseconds=1)  # another run took this instant meanwhile
            continue
        return CreatedRun(run_id, state, created=True)
    raise AssertionError("unreachable")


class _GunicornConnectionClose:
    """Airflow 2 (gunicorn): honour the ``Connection: close`` of a webhook answer (the 413 sent
    before a too-large body was read).

    WSGI forbids hop-by-hop headers, so gunicorn drops it, announces keep-alive, then drains at
    most 64 KiB of the unread body and closes the connection anyway: a client reusing it fails.
    Its ``start_response`` is a method of its response object, whose ``force_close()`` makes it
    say ``Connection: close`` and close once the answer is sent. Other servers: no change.
    """

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        from airflow_webhook_trigger.http.blueprint import URL_PREFIX

        if URL_PREFIX + "/" not in environ.get("PATH_INFO", ""):
            return self.wsgi_app(environ, start_response)

        def closing_start_response(status, headers, exc_info=None):
            if any(name.lower() == "connection" and value.lower() == "close" for name, value in headers):
                force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
                if callable(force_close):
                    force_close()
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, closing_start_response)


def _load_fab_user_model() -> None:
    """Airflow 2: map FAB's ``ab_user`` (the webserver has; a CLI process may not) so a note can be written."""
    try:
        import airflow.providers.fab.auth_manager.models  # noqa: F401
    except ImportError:  # no FAB provider: then nothing references ab_user either
        pass


def _existing_run_state(session, dag_id: str, run_id: str) -> str | None:
    """The state of the run ``(dag_id, run_id)`` as text, or None: one query, in ``session``."""
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun

    state = session.scalar(select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    return None if state is None else str(state)


def run_state(dag_id: str, run_id: str) -> str | None:
    """The run's current state (``queued``, ``running``, ``success``, ``failed``...), or None."""
    with create_session() as session:
        return _existing_run_state(session, dag_id, run_id)


def return_values(dag_id: str, run_id: str) -> dict[str, Any]:
    """task_id -> XCom ``return_value`` of every task of the run that returned one."""
    return {task_id: value for task_id, value in xcom_values(dag_id, run_id, "return_value").items()}


def xcom_values(dag_id: str, run_id: str, key: str) -> dict[str, Any]:
    from sqlalchemy import select

    XComModel = _xcom_model()

    with create_session() as session:
        rows = session.execute(
            select(XComModel.task_id, XComModel.value, XComModel.map_index).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == key
            )
        ).all()
    values: dict[str, Any] = {}
    for task_id, value, map_index in rows:
        decoded = _decode_xcom(XComModel, value)
        if map_index is not None and map_index >= 0:
            values.setdefault(task_id, []).append(decoded)
        else:
            values[task_id] = decoded
    return values


class _Row:
    def __init__(self, value: Any) -> None:
        self.value = value


def _decode_xcom(model: Any, value: Any) -> Any:
    """A stored XCom as the task returned it.

    Airflow 3 stores the task SDK's ``serde`` form as native JSON (a returned ``"42"`` is the
    JSON string ``"42"``), so ``XComModel.deserialize_value``'s ``json.loads`` would turn it into
    the number 42. The configured XCom backend's ``deserialize_value`` decodes it as tasks do
    (tuples, datetimes, an object-storage backend's reference); what cannot be rebuilt in the
    api-server falls back to serde's readable form.
    """
    if AIRFLOW_MAJOR < 3:
        return model.deserialize_value(_Row(value)) if not isinstance(value, (dict, list)) else value
    from airflow.sdk.execution_time.xcom import resolve_xcom_backend
    from airflow.sdk.serde import deserialize

    try:
        return resolve_xcom_backend().deserialize_value(_Row(value))
    except Exception:  # noqa: BLE001 - a class not importable here, a backend that fails
        return deserialize(value, full=False)


def _xcom_model():
    """The XCom table's model: ``XComModel`` on Airflow 3; the configured XCom backend on 2."""
    if AIRFLOW_MAJOR < 3:
        from airflow.models.xcom import XCom

        return XCom
    from airflow.models.xcom import XComModel

    return XComModel


# --- variables, connections ------------------------------------------------------------------


def get_variable(name: str) -> str | None:
    """An Airflow Variable through the configured secrets backends, or None.

    Raises the database's error when the variable was not found because the database is down:
    Airflow logs and swallows a failing backend, and "not set" would answer 404 or 401 where
    the sender must get 503 and retry.
    """
    from airflow.models.variable import Variable

    value = Variable.get(name, default_var=None)
    if value is None:
        raise_if_database_unavailable()
    return value


def get_connection(conn_id: str) -> Any:
    """An Airflow Connection through the secrets backends (the database's error when it is down)."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    try:
        return Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        raise_if_database_unavailable()
        raise


def raise_if_database_unavailable() -> None:
    """One ``SELECT 1``: raises the database's own error when it cannot be reached."""
    from sqlalchemy import text

    with create_session() as session:
        session.execute(text("SELECT 1"))


def ui_base_url() -> str:
    """The Airflow UI's public base URL from config ([webhook_trigger] base_url, [api] base_url)."""
    from airflow.configuration import conf

    ui_section = "api" if AIRFLOW_MAJOR >= 3 else "webserver"  # 2.x: [webserver] base_url, as its own links
    return (conf.get("webhook_trigger", "base_url", fallback="") or conf.get(ui_section, "base_url", fallback="") or "").rstrip("/")


def run_url_path(dag_id: str, run_id: str) -> str:
    from urllib.parse import quote

    if AIRFLOW_MAJOR < 3:  # the classic UI shows a run in the DAG's grid view
        return f"/dags/{quote(dag_id, safe='')}/grid?dag_run_id={quote(run_id, safe='')}"
    return f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def airflow2_blueprint():
    """Airflow 2: the blueprint for the Flask webserver, at the exact Kestra path, without CSRF.

    The webserver registers plugin blueprints at the root, after ``CSRFProtect`` is set up
    (``airflow/www/app.py``), and Flask-WTF protects every POST/PUT app-wide, so the blueprint is
    exempted when it is registered, on that app's own extension: importing ``airflow.www.app``
    here instead would load the whole web UI into the scheduler and workers, which load plugins
    too. The blueprint has no login decorator, so FAB asks for none.
    """
    from airflow_webhook_trigger.http.blueprint import create_blueprint

    blueprint = create_blueprint()

    def exempt_from_csrf(state) -> None:
        csrf = state.app.extensions.get("csrf")
        if csrf is not None:
            csrf.exempt(blueprint)
        state.app.wsgi_app = _GunicornConnectionClose(state.app.wsgi_app)

    blueprint.record_once(exempt_from_csrf)

    @blueprint.before_app_request
    def json_answer_when_no_route_matched():
        # TRACE, PROPFIND, a path with a newline...: Werkzeug fails the match before any blueprint is
        # chosen, and Airflow's /api/v1 handler would answer problem+json. Answer as Airflow 3's
        # mounted app does (http/asgi.py), only under the webhook prefix.
        from flask import request
        from werkzeug.exceptions import HTTPException

        from airflow_webhook_trigger.http.asgi import json_error
        from airflow_webhook_trigger.http.blueprint import URL_PREFIX

        if isinstance(request.routing_exception, HTTPException) and request.path.startswith(URL_PREFIX + "/"):
            return json_error(request.routing_exception)
        return None

    return blueprint


# --- metrics and the audit log (observe.py, audit.py) -------------------------------------------


@lru_cache(maxsize=1)
def stats() -> Any:
    """Airflow's metrics facade of this process: ``incr(stat, tags=...)``, ``timing(stat, dt, tags=...)``.

    Airflow 3.2+ keeps it in ``airflow._shared.observability.metrics.stats`` (the one the
    api-server initializes in its lifespan from ``[metrics]``: StatsD, Datadog or OpenTelemetry);
    ``airflow.stats.Stats`` is a deprecated shim there that points at the *task SDK's* copy,
    which the api-server never initializes. Older releases only have ``airflow.stats.Stats``.
    """
    try:
        from airflow._shared.observability.metrics import stats as module

        return module
    except ImportError:  # Airflow 2.x, 3.0, 3.1
        from airflow.stats import Stats

        return Stats


def metrics_enabled() -> bool:
    """False when ``[metrics]`` sends nothing: callers then skip building tags and names.

    Why ask: on the 204 and 404 paths, the four ``Stats`` calls of a delivery cost ~8 us even
    when they go to Airflow's ``NoStatsLogger``, a measurable share of what those paths may cost.
    """
    no_op = _no_stats_logger()
    if no_op is None:  # older releases: always call (their Stats facade decides)
        return True
    return not isinstance(stats()._get_backend(), no_op)


@lru_cache(maxsize=1)
def _no_stats_logger() -> type | None:
    """The backend class of ``stats()`` when metrics are off (Airflow 3.2+), looked up once."""
    try:
        from airflow._shared.observability.metrics.base_stats_logger import NoStatsLogger
    except ImportError:
        return None
    return NoStatsLogger


_AUDIT_COLUMNS = ("dttm", "event", "dag_id", "run_id", "owner", "extra")


def write_audit_log(entries: Iterable[dict[str, Any]]) -> int:
    """Add rows to Airflow's audit log (table ``log``, Browse -> Audit Log) in one transaction.

    Each entry: ``event``, ``dag_id``, ``run_id``, ``owner``, ``extra`` (text) and ``when``
    (the delivery's time, an aware datetime, kept as the row's ``dttm`` although the row is
    written later).

    On SQLite, the driver's own ``executemany`` rather than ``session.execute(insert(Log), rows)``:
    at thousands of 204s a second this runs in the api-server next to the requests, and every
    microsecond it holds the GIL is taken from them. Measured, 1,000 rows: SQLAlchemy Core 11.8
    us a row, of which ~6 us is Python binding each row (Airflow's ``UtcDateTime`` converts
    through pendulum); sqlite3's loop runs in C, ~5.8 us a row, nearly all of it SQLite itself.
    ``dttm`` is prepared as ``UtcDateTime`` would (UTC) and then by the dialect's own bind
    processor (SQLite stores text in SQLAlchemy's format). Other databases get the Core insert:
    SQLAlchemy sends it there as multi-row ``VALUES`` batches, where a driver's ``executemany``
    (psycopg2) would make one round trip per row.
    """
    from datetime import timezone

    from airflow.models.log import Log

    entries = list(entries)
    if not entries:
        return 0
    table = Log.__table__
    with create_session() as session:
        connection = session.connection()
        dialect = connection.dialect
        if dialect.name != "sqlite":
            from sqlalchemy import insert

            session.execute(insert(table), [{"dttm": e.get("when"), **{c: e.get(c) for c in _AUDIT_COLUMNS[1:]}}
                                            for e in entries])
            return len(entries)
        column_type = table.c.dttm.type  # UtcDateTime: a decorator over the dialect's TIMESTAMP
        impl = column_type.load_dialect_impl(dialect) if hasattr(column_type, "load_dialect_impl") else column_type
        to_db = impl.dialect_impl(dialect).bind_processor(dialect)

        def when(value: datetime | None) -> Any:
            if value is None:
                return None
            value = value.astimezone(timezone.utc)
            return to_db(value) if to_db is not None else value

        rows = [(when(e.get("when")), e["event"], e["dag_id"], e.get("run_id"), e["owner"], e["extra"]) for e in entries]
        sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(_AUDIT_COLUMNS)}) "
               f"VALUES ({', '.join(['?'] * len(_AUDIT_COLUMNS))})")
        connection.exec_driver_sql(sql, rows)
    return len(rows)

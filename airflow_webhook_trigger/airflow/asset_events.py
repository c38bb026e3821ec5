"""Recording an asset event (a dataset event on Airflow 2) for a webhook delivery, exactly once.

**How the event is made.** As Airflow's own ``POST /api/v2/assets/events`` makes one:
``asset_manager.register_asset_change(asset=<AssetModel>, extra=..., source_is_api=True)``
(``dataset_manager.register_dataset_change(dataset=Dataset(uri), extra=...)`` on 2.10/2.11,
as ``POST /api/v1/datasets/events`` does). The manager records the event, queues the DAGs
scheduled on the asset (paused ones excepted) and calls the listeners; nothing here writes
Airflow's tables but the one lock statement below. The declaring DAG's state is read in the
same transaction: gone -> ``DagGone``, paused -> ``DagPaused``, as for a run. The event's
``source_dag_id``/``source_run_id`` stay empty, as for any event from the REST API: they name
a task instance, and the UI would link a run that does not exist; ``extra.webhook`` names the
sender (namespace, DAG, trigger id, correlation id).

**Which asset.** Airflow creates an asset's row when a DAG file that uses it (as schedule,
outlet or inlet) is parsed. A webhook may name an asset no DAG uses yet (its consumer not
deployed yet, or parsed later): then the asset is registered the way the DAG processor
registers one, ``asset_manager.create_assets`` and a best-effort activation (Airflow 2:
``dataset_manager.create_datasets``), rather than refusing the declaration, because the
order in which files are parsed must not decide whether a webhook works. An asset no DAG uses
stays "orphaned" (the scheduler deactivates it): its events are kept, and a DAG scheduled on it
later sees the ones recorded after it. A URI alone finds the active asset with that URI (a DAG
may have named it ``Asset(name=..., uri=...)``), else any asset with that URI, else registers
``Asset(uri)``; a name alone likewise; both: that exact asset. Two deliveries registering the
same asset at once meet Airflow's unique ``(name, uri)``: the loser retries and finds it.

**Exactly once per delivery id.** ``asset_event`` has no column for a delivery id and no
unique constraint to lean on, so the event's ``extra`` carries the delivery's correlation id
(``extra.webhook.id``, the same id a run would get, from ``delivery_ids.delivery_id``) and the
check "is there an event on this asset from this DAG with this id" and the insert run in one
transaction that first takes a lock keyed by that id:

- PostgreSQL: ``pg_advisory_xact_lock(<64-bit hash of DAG id + correlation id>)``. Deliveries
  of the same id wait for each other, across workers and replicas (the lock lives in the
  server), and the second sees the first's committed event (READ COMMITTED: each statement
  sees what was committed before it started). Different ids never wait for each other (a hash
  collision only makes two deliveries take turns); the lock is released at commit or rollback,
  so a crashed request holds nothing. Chosen over a row lock on the asset, which would make
  every delivery to a busy asset wait for the others.
- SQLite: writes are serialized anyway; a no-op ``UPDATE`` of the asset row first (as Airflow's
  own ``_lock_asset_model`` does) takes the database's write lock before the check, so the
  check cannot read a state another connection is about to change.
- MySQL: ``SELECT ... FOR UPDATE`` on the asset row (deliveries to one asset take turns).

The check reads ``extra`` with the database's JSON functions, on the asset's events only
(``asset_event`` is indexed by asset and time); a delivery without an id skips lock and check.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, cast, func, select, text, update

from airflow_webhook_trigger.airflow.dag_runs.common import DagGone, DagPaused
from airflow_webhook_trigger.airflow.database import DatabaseConflict, create_session, is_unique_violation
from airflow_webhook_trigger.airflow.versions import IS_AIRFLOW_2

__all__ = ["AssetEventRequest", "RecordedEvent", "normalized_asset", "record_asset_event", "SOURCE_KEY"]

log = logging.getLogger(__name__)

SOURCE_KEY = "webhook"  # extra["webhook"]["id"]: the correlation id the duplicate check reads
_ATTEMPTS = 3


@dataclass(frozen=True)
class AssetEventRequest:
    dag_id: str  # the declaring DAG: its state is checked, and events are deduplicated per DAG
    name: str
    uri: str
    group: str | None
    by: str  # "uri", "name" or "both": what identifies the asset
    extra: dict[str, Any]
    dedupe_id: str | None  # the correlation id when the delivery has an id: one event per id


@dataclass(frozen=True)
class RecordedEvent:
    event_id: int
    asset_id: int
    uri: str
    created: bool  # False: an event of an earlier delivery with the same id


def normalized_asset(name: str | None, uri: str | None, group: str | None) -> tuple[str, str, str | None]:
    """``(name, uri, group)`` as Airflow's own ``Asset`` (``Dataset`` on 2.x) makes them; raises
    ``ValueError``/``TypeError`` for what Airflow refuses (e.g. the reserved ``airflow://``)."""
    if IS_AIRFLOW_2:
        from airflow.datasets import Dataset  # the DAG authors' class: normalizes as they do

        if (name is not None and name != uri) or group is not None:
            raise ValueError("Airflow 2 datasets have only a uri: drop name and group")
        dataset = Dataset(uri)
        return dataset.uri, dataset.uri, None
    from airflow.sdk import Asset  # the DAG authors' class: normalizes as they do

    asset = Asset(name=name, uri=uri, group=group) if group is not None else Asset(name=name, uri=uri)
    return asset.name, asset.uri, group


def _models():
    """(asset model, event model, the event's asset id column) of this Airflow line."""
    if IS_AIRFLOW_2:
        from airflow.models.dataset import DatasetEvent, DatasetModel  # the ORM: api-server only

        return DatasetModel, DatasetEvent, DatasetEvent.dataset_id
    from airflow.models.asset import AssetEvent, AssetModel  # the ORM: api-server only

    return AssetModel, AssetEvent, AssetEvent.asset_id


def record_asset_event(request: AssetEventRequest) -> RecordedEvent:
    """Record the event, or find the one an earlier delivery with the same id recorded."""
    for attempt in range(_ATTEMPTS):
        try:
            with create_session() as session:
                return _record(session, request)
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
            if attempt == _ATTEMPTS - 1:  # never a 200 without an event behind it
                reason = f"recording the asset event failed on a constraint: {type(exc).__name__}"
                raise DatabaseConflict(reason) from exc
            log.info("Asset %s registered concurrently by another delivery; retrying", request.uri)
    raise AssertionError("unreachable")


def _record(session, request: AssetEventRequest) -> RecordedEvent:
    _check_dag(session, request.dag_id)
    asset = _find_asset(session, request) or _register_asset(session, request)
    if request.dedupe_id is not None:
        _lock(session, asset.id, f"{request.dag_id}\0{request.dedupe_id}")
        existing = _existing_event(session, asset.id, request.dag_id, request.dedupe_id)
        if existing is not None:
            return RecordedEvent(existing, asset.id, asset.uri, created=False)
    event = _register_change(session, asset, request.extra)
    if event is None:  # the manager found no asset: it was deleted meanwhile
        raise DatabaseConflict(f"asset {request.uri!r} disappeared while its event was recorded")
    session.flush()
    return RecordedEvent(event.id, asset.id, asset.uri, created=True)


def _check_dag(session, dag_id: str) -> None:
    from airflow.models.dag import DagModel  # the ORM: api-server only

    gone_column = DagModel.is_active if IS_AIRFLOW_2 else DagModel.is_stale
    row = session.execute(select(DagModel.is_paused, gone_column).where(DagModel.dag_id == dag_id)).one_or_none()
    if row is None or (not row[1] if IS_AIRFLOW_2 else row[1]):
        raise DagGone(dag_id)
    if row[0]:
        raise DagPaused(dag_id)


def _find_asset(session, request: AssetEventRequest):
    model, _, _ = _models()
    if IS_AIRFLOW_2:
        return session.scalar(select(model).where(model.uri == request.uri))
    from airflow.models.asset import AssetActive  # the ORM: api-server only

    if request.by == "both":
        return session.scalar(select(model).where(model.name == request.name, model.uri == request.uri))
    column, value = (model.uri, request.uri) if request.by == "uri" else (model.name, request.name)
    active = session.scalar(select(model).join(AssetActive, and_(AssetActive.name == model.name,
                                                                 AssetActive.uri == model.uri)).where(column == value))
    return active or session.scalar(select(model).where(column == value).order_by(model.id).limit(1))


def _register_asset(session, request: AssetEventRequest):
    """Register an asset no DAG has declared yet, as the DAG processor registers one."""
    log.info("Registering asset %s (name %s) for webhooks of DAG %s: no DAG declares it yet",
             request.uri, request.name, request.dag_id)
    if IS_AIRFLOW_2:
        from airflow.datasets.manager import dataset_manager  # Airflow's manager: api-server only
        from airflow.models.dataset import DatasetModel

        model = DatasetModel(uri=request.uri, extra={})
        dataset_manager.create_datasets([model], session=session)
        return model
    from airflow.assets.manager import asset_manager  # Airflow's manager: api-server only
    from airflow.models.asset import AssetModel

    if hasattr(AssetModel, "from_serialized"):  # 3.3: the manager takes serialized assets
        from airflow.serialization.definitions.assets import SerializedAsset  # api-server only

        asset: Any = SerializedAsset(name=request.name, uri=request.uri, group=request.group or "asset",
                                     extra={}, watchers=[])
    else:  # 3.0-3.2: the SDK's Asset
        from airflow.sdk import Asset  # the SDK class the older manager takes

        asset = Asset(name=request.name, uri=request.uri, group=request.group or "asset")
    (model,) = asset_manager.create_assets([asset], session=session)
    session.flush()  # a concurrent registration fails here, on the unique (name, uri): retried
    _activate(session, model)
    return model


def _activate(session, model) -> None:
    """Best effort, as ``AssetModelOperation.activate_assets_if_possible``: no error on conflict."""
    from airflow.models.asset import AssetActive  # the ORM: api-server only

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # per dialect: only the one in use

        statement = insert(AssetActive).on_conflict_do_nothing()
    elif dialect == "mysql":
        from sqlalchemy.dialects.mysql import insert  # per dialect: only the one in use

        statement = insert(AssetActive).on_duplicate_key_update(name=AssetActive.name)
    else:
        from sqlalchemy.dialects.sqlite import insert  # per dialect: only the one in use

        statement = insert(AssetActive).on_conflict_do_nothing()
    session.execute(statement, [{"name": model.name, "uri": model.uri}])


def _lock_key(key: str) -> int:
    """A signed 64-bit number for ``pg_advisory_xact_lock``, the same in every process."""
    digest = hashlib.sha256(f"airflow_webhook_trigger:asset_event:{key}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock(session, asset_id: int, key: str) -> None:
    """Make deliveries of one id take turns until this transaction ends (module docstring)."""
    model, _, _ = _models()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(key)})
    elif dialect == "mysql":
        session.execute(select(model.id).where(model.id == asset_id).with_for_update())
    else:
        # updated_at kept as is: a Core UPDATE would otherwise apply its onupdate default
        session.execute(update(model).where(model.id == asset_id).values(id=model.id, updated_at=model.updated_at))


def _extra_text(session, column, *path: str):
    """``column -> path ->> last`` as text, in the database's own JSON functions."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSON  # per dialect: only the one in use

        return func.json_extract_path_text(cast(column, JSON), *path)
    json_path = "$." + ".".join(path)
    if dialect == "mysql":
        return func.json_unquote(func.json_extract(column, json_path))
    return func.json_extract(column, json_path)


def _existing_event(session, asset_id: int, dag_id: str, dedupe_id: str) -> int | None:
    """The first event on the asset recorded by this DAG's webhooks for this correlation id."""
    _, event, asset_column = _models()
    return session.scalar(
        select(event.id)
        .where(asset_column == asset_id,
               _extra_text(session, event.extra, SOURCE_KEY, "id") == dedupe_id,
               _extra_text(session, event.extra, SOURCE_KEY, "dag_id") == dag_id)
        .order_by(event.id)
        .limit(1)
    )


def _register_change(session, asset, extra: dict[str, Any]):
    """Airflow's own call, as its REST API makes it."""
    if IS_AIRFLOW_2:
        from airflow.datasets import Dataset  # the manager takes the DAG authors' class
        from airflow.datasets.manager import dataset_manager  # Airflow's manager: api-server only

        return dataset_manager.register_dataset_change(dataset=Dataset(asset.uri), extra=extra, session=session)
    from airflow.assets.manager import asset_manager  # Airflow's manager: api-server only

    # source_is_api and api_user_teams (3.3, multi-team): a teamless API source, as the REST API
    # passes for a teamless user; older 3.x take them as ignored keyword arguments
    return asset_manager.register_asset_change(asset=asset, extra=extra, source_is_api=True, api_user_teams=set(),
                                               session=session)

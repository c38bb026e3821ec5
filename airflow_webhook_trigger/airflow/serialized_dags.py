"""Reading serialized DAGs (the index's source) without deserializing whole DAGs.

Params live only in the serialized DAG, so finding every DAG that declares a webhook means
reading ``serialized_dag``. These reads are shaped for the index's refresh: a cheap fingerprint
first, then only the heads and data of DAGs that changed.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import func, or_, select

from airflow_webhook_trigger.airflow.versions import IS_AIRFLOW_2

__all__ = ["SerializedHead", "serialized_fingerprint", "serialized_heads", "serialized_data", "dag_flags",
           "decode_param_default", "decode_param_schemas"]

_BATCH = 500


@dataclass(frozen=True)
class SerializedHead:
    """The newest serialized version of one DAG, without its (large) data."""

    dag_id: str
    row_id: str
    dag_hash: str


def _model():
    from airflow.models.serialized_dag import SerializedDagModel  # the ORM: only where the index is built

    return SerializedDagModel


def serialized_fingerprint(session) -> tuple[Any, ...]:
    """A cheap value that changes whenever a serialized DAG is added, updated or deleted."""
    sdm = _model()
    return tuple(session.execute(select(func.count(sdm.dag_id), func.max(sdm.last_updated))).one())


def serialized_heads(session) -> dict[str, SerializedHead]:
    """dag_id -> its newest serialized version (one row per DAG on Airflow 2; per version on 3)."""
    sdm = _model()
    if IS_AIRFLOW_2:
        rows = session.execute(select(sdm.dag_id, sdm.dag_id, sdm.dag_hash))
    else:
        from airflow.models.dag_version import DagVersion  # Airflow 3 only

        rows = session.execute(
            select(sdm.dag_id, sdm.id, sdm.dag_hash)
            .join(DagVersion, sdm.dag_version_id == DagVersion.id)
            .order_by(sdm.dag_id, DagVersion.version_number)
        )
    heads: dict[str, SerializedHead] = {}
    for dag_id, row_id, dag_hash in rows:
        heads[dag_id] = SerializedHead(dag_id, str(row_id), dag_hash)  # the last one wins
    return heads


def serialized_data(session, heads: Iterable[SerializedHead]) -> dict[str, dict]:
    """row_id -> the serialized DAG as a dict, for the given heads (in batches).

    ``_data``/``_data_compressed`` are private columns, read directly because the public
    ``SerializedDagModel.data`` property decompresses and parses one row per query; the index
    reads hundreds at a time. ``test_serialized_dags`` checks this still matches ``.data``.
    """
    sdm = _model()
    key = sdm.dag_id if IS_AIRFLOW_2 else sdm.id
    ids = [h.row_id for h in heads]
    result: dict[str, dict] = {}
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        wanted = batch if IS_AIRFLOW_2 else [UUID(i) for i in batch]
        for row_id, data, compressed in session.execute(
            select(key, sdm._data, sdm._data_compressed).where(key.in_(wanted))
        ):
            if compressed:
                data = json.loads(zlib.decompress(compressed))
            elif isinstance(data, str):
                data = json.loads(data)
            result[str(row_id)] = data or {}
    return result


def dag_flags(session) -> tuple[frozenset[str], frozenset[str]]:
    """``(paused DAG ids, DAG ids no longer active)``: the only DAG rows a refresh needs.

    Why not every DAG's flags: the index refreshes every few seconds in every api-server worker;
    the database filters, and answers the few paused or stale ones. A DAG that has a serialized
    version is in the ``dag`` table too (Airflow writes that row first), so "not listed here"
    means active and not paused. Numbers: docs/performance.md.
    """
    from airflow.models.dag import DagModel  # the ORM: only where the index is built

    paused = DagModel.is_paused.is_(True)
    # Airflow 2 marks a removed DAG inactive (NULL counts as inactive there); 3 marks it stale
    inactive = DagModel.is_active.isnot(True) if IS_AIRFLOW_2 else DagModel.is_stale.is_(True)
    rows = session.execute(select(DagModel.dag_id, paused, inactive).where(or_(paused, inactive))).all()
    return (frozenset(dag_id for dag_id, is_paused, _ in rows if is_paused),
            frozenset(dag_id for dag_id, _, is_inactive in rows if is_inactive))


def decode_param_default(encoded_params: Any, name: str) -> tuple[bool, Any]:
    """Find param ``name`` in a serialized DAG's params and decode its value.

    Returns ``(found, value)``. Decoding one param avoids deserializing the whole DAG.
    """
    from airflow.serialization.serialized_objects import BaseSerialization  # heavy: on use only

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


def decode_param_schemas(encoded_params: Any, names: Iterable[str]) -> dict[str, dict]:
    """The JSON schemas (``Param(..., type="integer")``) of the params ``names``, decoded.

    A param with no schema, or a plain value, gets ``{}``; a name that is not a param is left out.
    """
    from airflow.serialization.serialized_objects import BaseSerialization  # heavy: on use only

    wanted = set(names)
    pairs = encoded_params.items() if isinstance(encoded_params, dict) else (encoded_params or ())
    schemas: dict[str, dict] = {}
    for param_name, encoded in pairs:
        if param_name not in wanted:
            continue
        schema = encoded.get("schema") if isinstance(encoded, dict) and "__class" in encoded else None
        if isinstance(schema, dict) and "__type" in schema:
            schema = BaseSerialization.deserialize(schema)
        schemas[param_name] = schema if isinstance(schema, dict) else {}
    return schemas

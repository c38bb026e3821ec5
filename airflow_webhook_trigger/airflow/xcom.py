"""A finished run's XCom values, decoded as its tasks returned them (for ``wait`` answers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from airflow_webhook_trigger.airflow.database import create_session
from airflow_webhook_trigger.airflow.versions import IS_AIRFLOW_2, SERDE_IN_TASK_SDK

__all__ = ["return_values", "xcom_values"]


def return_values(dag_id: str, run_id: str) -> dict[str, Any]:
    """task_id -> XCom ``return_value`` of every task of the run that returned one."""
    return xcom_values(dag_id, run_id, "return_value")


def xcom_values(dag_id: str, run_id: str, key: str) -> dict[str, Any]:
    """task_id -> the XCom ``key`` of that task (a list in map-index order for a mapped task)."""
    model = _xcom_model()
    with create_session() as session:
        rows = session.execute(
            select(model.task_id, model.value, model.map_index).where(
                model.dag_id == dag_id, model.run_id == run_id, model.key == key
            )
        ).all()
    values: dict[str, Any] = {}
    for task_id, value, map_index in rows:
        decoded = _decode(model, value)
        if map_index is not None and map_index >= 0:
            values.setdefault(task_id, []).append(decoded)
        else:
            values[task_id] = decoded
    return values


class _Row:
    def __init__(self, value: Any) -> None:
        self.value = value


def _decode(model: Any, value: Any) -> Any:
    """A stored XCom as the task returned it.

    Airflow 3 stores the task SDK's ``serde`` form as native JSON (a returned ``"42"`` is the
    JSON string ``"42"``), so ``XComModel.deserialize_value``'s ``json.loads`` would turn it into
    the number 42. The configured XCom backend's ``deserialize_value`` decodes it as tasks do
    (tuples, datetimes, an object-storage backend's reference); what cannot be rebuilt in the
    api-server falls back to serde's readable form.
    """
    if IS_AIRFLOW_2:
        return model.deserialize_value(_Row(value)) if not isinstance(value, (dict, list)) else value
    from airflow.sdk.execution_time.xcom import resolve_xcom_backend  # Airflow 3 only

    if SERDE_IN_TASK_SDK:
        from airflow.sdk.serde import deserialize  # 3.2+
    else:
        from airflow.serialization.serde import deserialize  # 3.0, 3.1

    try:
        return resolve_xcom_backend().deserialize_value(_Row(value))
    except Exception:  # noqa: BLE001 - a class not importable here, a backend that fails
        return deserialize(value, full=False)


def _xcom_model():
    """The XCom table's model: ``XComModel`` on Airflow 3; the configured XCom backend on 2."""
    if IS_AIRFLOW_2:
        from airflow.models.xcom import XCom  # the ORM: on use only

        return XCom
    from airflow.models.xcom import XComModel  # the ORM: on use only

    return XComModel

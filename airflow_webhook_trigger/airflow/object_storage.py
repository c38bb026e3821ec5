"""Writing ``fetchType: STORE`` bodies to object storage, through Airflow's ``ObjectStoragePath``.

Why Airflow's: it reads connections for ``s3://``, ``gs://``... the way the DAG's own tasks will
when they open the ``uri`` the run receives. The store is ``[webhook_trigger] body_store``,
by default ``file://{AIRFLOW_HOME}/webhook_bodies`` (fine for one machine; a shared store is needed
when tasks run elsewhere). A body is durable before ``store`` returns: flushed and fsync-ed
where the file system allows, closed (which commits an object store's upload) everywhere.
"""

from __future__ import annotations

import os
from typing import Any

from airflow_webhook_trigger import config
from airflow_webhook_trigger.airflow.versions import IS_AIRFLOW_2

__all__ = ["store_root", "store", "delete"]


def _path_class() -> Any:
    if IS_AIRFLOW_2:
        from airflow.io.path import ObjectStoragePath  # Airflow 2.8+; loaded by the first stored body

        return ObjectStoragePath
    from airflow.sdk import ObjectStoragePath  # Airflow 3; loaded by the first stored body

    return ObjectStoragePath


def store_root() -> str:
    """The configured store URL, or the default folder under AIRFLOW_HOME."""
    configured = config.get("body_store").strip()
    if configured:
        return configured
    from airflow.configuration import AIRFLOW_HOME  # Airflow's own resolution of its home

    return f"file://{os.path.abspath(AIRFLOW_HOME)}/webhook_bodies"


def store(relative: str, data: bytes) -> str:
    """Write ``data`` to ``{store}/{relative}`` and return its URL once durable."""
    path = _path_class()(store_root()) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        try:
            os.fsync(handle.fileno())
        except (AttributeError, OSError, ValueError):  # an object store: closing commits the upload
            pass
    return str(path)


def delete(uri: str) -> None:
    """Remove a stored body (its run was not created); a body already gone is fine."""
    path = _path_class()(uri)
    try:
        path.unlink()
    except FileNotFoundError:
        pass

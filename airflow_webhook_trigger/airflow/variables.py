"""Airflow Variables and Connections through the configured secrets backends (``secret()``,
``var``, ``conn`` in templates)."""

from __future__ import annotations

from typing import Any

from airflow_webhook_trigger.airflow.database import raise_if_database_unavailable

__all__ = ["get_variable", "get_connection"]


def get_variable(name: str) -> str | None:
    """An Airflow Variable, or None.

    Raises the database's error when the variable was not found because the database is down:
    Airflow logs and swallows a failing backend, and "not set" would answer 404 or 401 where
    the sender must get 503 and retry.
    """
    from airflow.models.variable import Variable  # the ORM: on use only (DAG files import this package)

    value = Variable.get(name, default_var=None)
    if value is None:
        raise_if_database_unavailable()
    return value


def get_connection(conn_id: str) -> Any:
    """An Airflow Connection (the database's error when it is down)."""
    from airflow.exceptions import AirflowNotFoundException  # on use only, as above
    from airflow.models.connection import Connection

    try:
        return Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        raise_if_database_unavailable()
        raise

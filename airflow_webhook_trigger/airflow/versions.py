"""Which Airflow is installed, and what it can do: the only place that compares versions.

The rest of the package asks a flag (``HAS_ALLOWED_RUN_TYPES``) rather than a version, so a
difference between releases is named once, for what it is.
"""

from __future__ import annotations

from importlib.metadata import version

__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_MAJOR",
    "IS_AIRFLOW_2",
    "HAS_ALLOWED_RUN_TYPES",
    "HAS_EXTERNAL_VIEWS",
    "HAS_PROVIDER_CLI",
    "HAS_DB_DAG_BAG",
    "CREATE_DAGRUN_TAKES_USER_NAME",
    "CREATE_DAGRUN_TAKES_NOTE",
    "SERDE_IN_TASK_SDK",
    "HAS_DAG_TEAMS",
    "DAG_DETAILS_HAS_TEAM",
    "ACCESS_LOG_AT_RESPONSE_START",
    "airflow_version",
]


def airflow_version() -> tuple[int, int]:
    """``(major, minor)`` of the installed ``apache-airflow``, read from its package metadata."""
    major, minor, *_ = version("apache-airflow").split(".")
    return int(major), int(minor)


AIRFLOW_VERSION = airflow_version()
AIRFLOW_MAJOR = AIRFLOW_VERSION[0]
IS_AIRFLOW_2 = AIRFLOW_MAJOR < 3

# ``DagModel.allowed_run_types`` (a DAG may refuse manual runs): migration 0105 of 3.2.0.
HAS_ALLOWED_RUN_TYPES = AIRFLOW_VERSION >= (3, 2)
# A plugin's ``external_views`` (our Webhooks page in the UI's navigation): 3.1.
HAS_EXTERNAL_VIEWS = AIRFLOW_VERSION >= (3, 1)
# CLI groups from a provider's ``get_provider_info()["cli"]`` (``airflow webhook-trigger``): 3.2.
HAS_PROVIDER_CLI = AIRFLOW_VERSION >= (3, 2)
# ``DBDagBag.get_dag(version_id, session)``, a DAG deserialized once per version: 3.2 (3.1 has
# only a private ``_get_dag``, 3.0 no ``DBDagBag``).
HAS_DB_DAG_BAG = AIRFLOW_VERSION >= (3, 2)
# ``DAG.create_dagrun(triggering_user_name=...)``: 3.1; ``create_dagrun(note=...)``: 3.2.
CREATE_DAGRUN_TAKES_USER_NAME = AIRFLOW_VERSION >= (3, 1)
CREATE_DAGRUN_TAKES_NOTE = AIRFLOW_VERSION >= (3, 2)
# ``airflow.sdk.serde`` (XCom values as tasks stored them): 3.2; before, ``airflow.serialization.serde``.
SERDE_IN_TASK_SDK = AIRFLOW_VERSION >= (3, 2)
# Multi-team deployments (``DagModel.get_dag_id_to_team_name_mapping``): 3.2;
# ``DagDetails(team_name=...)`` for the auth manager: 3.1.
HAS_DAG_TEAMS = AIRFLOW_VERSION >= (3, 2)
DAG_DETAILS_HAS_TEAM = AIRFLOW_VERSION >= (3, 1)
# 3.0/3.1 leave the access log to uvicorn, which writes a request's line when its response
# starts; 3.2+ writes it from its own middleware once the app has returned.
ACCESS_LOG_AT_RESPONSE_START = (3, 0) <= AIRFLOW_VERSION < (3, 2)

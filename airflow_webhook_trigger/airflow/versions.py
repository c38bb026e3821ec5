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

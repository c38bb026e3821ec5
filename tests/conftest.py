"""Shared fixtures: one real Airflow for the whole test session.

``stack`` migrates a fresh database, serializes ``example_dags/`` and ``tests/dags/`` and starts
the api-server with the plugin installed through its entry point. The database is SQLite unless
``WEBHOOK_TEST_DATABASE_URL`` names another (``scripts/test`` runs the suite a second time on
PostgreSQL with ``WEBHOOK_TEST_WORKERS=2``). ``scheduler`` adds a scheduler and DAG processor for
tests whose runs must finish. Test DAGs in ``tests/dags`` are prefixed by the issue they prove.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tools.stack import AIRFLOW_MAJOR, AirflowStack  # noqa: E402

WEBHOOK_PREFIX = "/api/v1/executions/webhook"


def pytest_collection_modifyitems(config, items):
    """The one place that decides what runs on which Airflow line: ``@pytest.mark.airflow3_only``
    (a test of something Airflow 2 does not have, e.g. the UI page) is skipped on Airflow 2."""
    if AIRFLOW_MAJOR >= 3:
        return
    skip = pytest.mark.skip(reason="Airflow 3 only (this is Airflow 2)")
    for item in items:
        if "airflow3_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def stack():
    """A running api-server (SQLite by default) with the example and test DAGs."""
    database_url = os.environ.get("WEBHOOK_TEST_DATABASE_URL") or None
    workers = int(os.environ.get("WEBHOOK_TEST_WORKERS", "1"))
    airflow = AirflowStack([REPO / "example_dags", REPO / "tests" / "dags"], database_url=database_url, workers=workers)
    try:
        airflow.start()
        yield airflow
    finally:
        airflow.cleanup()


@pytest.fixture(scope="session")
def scheduler(stack):
    """Start the scheduler and DAG processor once, for tests whose runs must finish."""
    if "scheduler" not in stack.processes:
        stack.start_scheduler()
    return stack


@pytest.fixture(scope="session")
def http(stack):
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        yield client


@pytest.fixture
def hook(http):
    """``hook("POST", "namespace", "dag_id", "key", json=...)`` -> httpx.Response."""

    def send(method: str, namespace: str, dag_id: str, key: str, **kwargs) -> httpx.Response:
        return http.request(method, f"{WEBHOOK_PREFIX}/{namespace}/{dag_id}/{key}", **kwargs)

    return send

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
if os.environ.get("WEBHOOK_TEST_INSTALLED") == "1":
    # scripts/test-airflow: the package as installed from its wheel, not the checkout's copy (which
    # the line below would put first: `tools` must come from the checkout, a dependency has one too)
    import airflow_webhook_trigger

    assert Path(airflow_webhook_trigger.__file__).parent != REPO / "airflow_webhook_trigger", "not the wheel"
sys.path.insert(0, str(REPO))

from tools.stack import AIRFLOW_VERSION, AirflowStack  # noqa: E402

WEBHOOK_PREFIX = "/api/v1/executions/webhook"


def required_airflow(item) -> tuple[int, int] | None:
    """The oldest Airflow ``(major, minor)`` a test needs: the highest of its
    ``@pytest.mark.requires_airflow(3, 1)`` marks (``airflow3_only`` is ``requires_airflow(3, 0)``)."""
    wanted = [tuple(mark.args[:2]) if len(mark.args) > 1 else (mark.args[0], 0)
              for mark in item.iter_markers("requires_airflow")
              if not (mark.kwargs.get("or_airflow2") and AIRFLOW_VERSION[0] == 2)]  # (3, 2, or_airflow2=True)
    if item.get_closest_marker("airflow3_only"):
        wanted.append((3, 0))
    return max(wanted, default=None)


def pytest_collection_modifyitems(config, items):
    """The one place that decides what runs on which Airflow release: a test of something an older
    Airflow does not have (the UI page: 3.0 has no ``external_views``; ``airflow webhooks``: the
    provider CLI hook is 3.2's) is skipped there, saying which release it needs."""
    for item in items:
        wanted = required_airflow(item)
        if wanted is not None and AIRFLOW_VERSION < wanted:
            have = ".".join(map(str, AIRFLOW_VERSION))
            item.add_marker(pytest.mark.skip(reason=f"needs Airflow {wanted[0]}.{wanted[1]}+ (this is {have})"))


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


def pytest_sessionfinish(session, exitstatus):
    """Tests that call the app in this process queue audit rows for a database this process does
    not have (the stacks have their own): drop them rather than fail to write them at exit."""
    from airflow_webhook_trigger.audit import AUDIT

    AUDIT.discard()

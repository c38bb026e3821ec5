"""Under load, each delivery runs exactly once and nothing is lost.

Each test starts its own Airflow with only ``tests/dags/postgres_load.py`` and sends about 1,000
deliveries from an asyncio client over loopback, a third of them redeliveries (the same bytes,
headers and delivery id). Runs are counted through Airflow's REST API.

- PostgreSQL, api-server with 2 workers, 16 in flight: every answer is 200, each delivery has
  exactly one run, the redelivery gets the same run id with ``"duplicate": true``.
- SQLite, 1 worker, 8 in flight: SQLite takes one writer at a time, so an answer may be 503
  (with Retry-After, so the sender retries) but never anything else; after the retries every
  delivery has its one run and every 200 names a run that exists. The busy timeout is cut to
  50 ms so that writers really collide (with the default 5 s this load gets no 503 at all).

Numbers (requests/s, statuses, p50/p99 latency) are printed: run with ``-s`` to see them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tools import postgres
from tools.loadgen import Answer, Delivery, by_delivery, make_deliveries, retry_refused, send_all, summary
from tools.stack import AirflowStack

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DAG_ID = "postgres_load"
DAG_FILE = REPO / "tests" / "dags" / f"{DAG_ID}.py"
GITHUB_SECRET = "t4pg-load-github-secret"
REQUESTS = 1002  # 668 distinct deliveries + 334 redeliveries
# SQLite's busy timeout (Python's default: 5 s) absorbs this load without a single 503, so the
# test shortens it: writers then really collide, and every collision must be a 503, not a 500.
SQLITE_BUSY_TIMEOUT = 0.05


def _load_stack(database_url: str | None, workers: int, *, sqlite_busy_timeout: float | None = None) -> AirflowStack:
    env = {"AIRFLOW_VAR_PG_GITHUB_SECRET": GITHUB_SECRET}
    stack = AirflowStack([], database_url=database_url, workers=workers, env=env)
    shutil.copy(DAG_FILE, stack.dags / DAG_FILE.name)
    if sqlite_busy_timeout is not None:
        stack.set_connect_args({"timeout": sqlite_busy_timeout})
    try:
        stack.start()
    except BaseException:
        stack.cleanup()
        raise
    return stack


def _deliveries() -> list[Delivery]:
    return make_deliveries(REQUESTS, namespace="t4pg", idem_key="t4pg-load", github_key="t4pg-load-github",
                           github_secret=GITHUB_SECRET)


def _run_ids(stack: AirflowStack) -> list[str]:
    return [run["dag_run_id"] for run in stack.list_runs(DAG_ID)]


def _assert_same_run_per_delivery(grouped: dict[str, list[Answer]]) -> dict[str, str]:
    """Every 200 of one delivery names the same run, and no two deliveries share a run."""
    run_of: dict[str, str] = {}
    for delivery_id, answers in grouped.items():
        ids = {a.body["dag_run_id"] for a in answers if a.status == 200}
        assert len(ids) <= 1, f"delivery {delivery_id} got several runs: {ids}"
        if ids:
            run_of[delivery_id] = ids.pop()
    assert len(set(run_of.values())) == len(run_of), "two deliveries were answered with the same run"
    return run_of


@pytest.mark.postgres
def test_postgres_two_workers_run_each_delivery_exactly_once():
    with postgres.fresh_database() as url:
        stack = _load_stack(url, workers=2)
        try:
            deliveries = _deliveries()
            load = send_all(stack.url, deliveries, concurrency=16)
            print("\n" + summary("PostgreSQL, 2 workers, concurrency 16", load))
            runs = _run_ids(stack)
        finally:
            stack.cleanup()

    statuses = {a.status for a in load.answers}
    assert statuses == {200}, [(a.status, a.body) for a in load.answers if a.status != 200][:5]
    grouped = by_delivery(load.answers)
    distinct = len({d.delivery_id for d in deliveries})
    assert len(grouped) == distinct == REQUESTS - REQUESTS // 3
    run_of = _assert_same_run_per_delivery(grouped)
    for delivery_id, answers in grouped.items():
        created = [a for a in answers if not a.body["duplicate"]]
        assert len(created) == 1, f"delivery {delivery_id}: {len(created)} answers say the run was created"
    assert sum(len(a) - 1 for a in grouped.values()) == REQUESTS // 3  # every redelivery: duplicate true
    assert len(runs) == len(set(runs)) == distinct, f"{len(runs)} runs for {distinct} deliveries"
    assert set(runs) == set(run_of.values()), "a 200 named a run that does not exist, or a run was not answered"


def test_sqlite_concurrent_deliveries_answer_200_or_503_and_lose_nothing():
    if os.environ.get("WEBHOOK_TEST_DATABASE_URL"):
        pytest.skip("the SQLite load test runs in the SQLite pass of scripts/test")
    stack = _load_stack(None, workers=1, sqlite_busy_timeout=SQLITE_BUSY_TIMEOUT)
    try:
        deliveries = _deliveries()
        load = send_all(stack.url, deliveries, concurrency=8)
        print("\n" + summary(f"SQLite (busy timeout {SQLITE_BUSY_TIMEOUT} s), 1 worker, concurrency 8", load))
        answers = list(load.answers)
        assert {a.status for a in answers} <= {200, 503}, sorted({(a.status, str(a.body)[:200]) for a in answers})
        for answer in answers:
            if answer.status == 503:
                assert answer.retry_after is not None and int(answer.retry_after) >= 1, answer
                assert "retry" in answer.body["message"], answer.body

        # the sender's retries: every delivery still without a 200 is sent again until it has one
        answers, retried = retry_refused(stack.url, answers, concurrency=8)
        assert {a.status for a in answers} <= {200, 503}
        print(f"SQLite: {sum(a.status == 503 for a in load.answers)} answers were 503 "
              f"(with Retry-After); {retried} retries until every delivery had its 200")
        runs = _run_ids(stack)
    finally:
        stack.cleanup()

    run_of = _assert_same_run_per_delivery(by_delivery(answers))
    distinct = len({d.delivery_id for d in deliveries})
    assert len(run_of) == distinct
    assert len(runs) == len(set(runs)) == distinct, f"{len(runs)} runs for {distinct} deliveries"
    assert set(runs) == set(run_of.values()), "a 200 named a run that does not exist, or a run was not answered"

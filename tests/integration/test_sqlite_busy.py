"""On SQLite, a busy database is a 503 with Retry-After, never a 500 and never a hang.

What SQLite raises: one writer at a time; a second writer waits for the busy timeout (Python's
``sqlite3`` default, 5 s; Airflow sets none) and then fails with ``sqlite3.OperationalError:
database is locked``, wrapped by SQLAlchemy as ``OperationalError``. Two copies of one delivery
racing to insert the same run id give ``IntegrityError`` instead, answered as the duplicate.
"""

from __future__ import annotations

import collections
import os
import shutil
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tools.stack import AirflowStack

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
URL_PATH = "/api/v1/executions/webhook/default/load_sqlite/t4-load-key"


def test_concurrent_deliveries_end_as_200_or_503(stack):
    """8 senders x 25 deliveries at once: each answer is 200 or 503 (+ Retry-After), nothing
    else, within the client's timeout; every 200 names a run the REST API knows."""
    marker = uuid.uuid4().hex

    def sender(n: int) -> list[tuple[int, str | None, str | None]]:
        answers = []
        with httpx.Client(base_url=stack.url, timeout=60) as client:
            for i in range(25):
                response = client.post(URL_PATH, json={"marker": marker, "sender": n, "i": i})
                run_id = response.json()["id"] if response.status_code == 200 else None
                answers.append((response.status_code, response.headers.get("Retry-After"), run_id))
        return answers

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = [a for batch in pool.map(sender, range(8)) for a in batch]
    took = time.monotonic() - started
    statuses = collections.Counter(status for status, _, _ in answers)
    print(f"\nSQLite-or-session DB, 8 x 25 concurrent deliveries: {dict(statuses)} in {took:.1f} s")
    assert set(statuses) <= {200, 503}, statuses
    assert all(retry for status, retry, _ in answers if status == 503)
    known = {run["dag_run_id"] for run in stack.list_runs("load_sqlite")}
    created = [run_id for status, _, run_id in answers if status == 200]
    assert len(set(created)) == len(created)
    assert not [run_id for run_id in created if run_id not in known]
    assert statuses[200] >= 1


def _sqlite_file(stack: AirflowStack) -> Path | None:
    url = stack.env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    return stack.home / "airflow.db" if not url else None


def test_a_short_lock_is_waited_out(stack, http):
    """A writer holding the lock for 1 s (a scheduler loop, say) costs latency, not a 503."""
    path = _sqlite_file(stack)
    if path is None:
        pytest.skip("the session stack does not run on SQLite")
    lock = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        lock.execute("BEGIN IMMEDIATE")
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(http.post, URL_PATH, json={"short": "lock"})
            time.sleep(1.0)
            lock.execute("ROLLBACK")
            response = pending.result(timeout=60)
    finally:
        lock.close()
    assert response.status_code == 200, response.text


# its own SQLite stack whatever the session's database: once is enough (the SQLite pass)
sqlite_pass_only = pytest.mark.skipif(bool(os.environ.get("WEBHOOK_TEST_DATABASE_URL")),
                                      reason="SQLite's own stack; runs in the SQLite pass")


@pytest.fixture(scope="module")
def impatient_stack():
    """Its own SQLite Airflow whose busy timeout is 0.5 s, so a held lock turns into 503 fast."""
    stack = AirflowStack([])
    shutil.copy(REPO / "tests" / "dags" / "load_sqlite.py", stack.dags)
    (stack.home / "sqlite_connect_args.py").write_text("CONNECT_ARGS = {'timeout': 0.5}\n")
    stack.env["PYTHONPATH"] = str(stack.home)
    stack.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] = "sqlite_connect_args.CONNECT_ARGS"
    stack.env["AIRFLOW__WEBHOOK_TRIGGER__RETRY_AFTER"] = "7"
    try:
        stack.start()
        yield stack
    finally:
        stack.cleanup()


@sqlite_pass_only
def test_locked_database_is_503_then_the_retry_runs_once(impatient_stack):
    stack = impatient_stack
    key = f"t4-locked-{uuid.uuid4().hex}"
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        assert client.post(URL_PATH, json={"warm": "up"}).status_code == 200  # index loaded, DAG cached
        lock = sqlite3.connect(stack.home / "airflow.db", isolation_level=None, timeout=30)
        try:
            lock.execute("BEGIN IMMEDIATE")  # another writer holds the lock, as a busy scheduler would
            started = time.monotonic()
            busy = client.post(URL_PATH, json={"n": 1}, headers={"Idempotency-Key": key})
            waited = time.monotonic() - started
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert busy.status_code == 503, busy.text
        assert busy.headers["Retry-After"] == "7"
        assert busy.json() == {"message": "Service Unavailable: the database is busy or unreachable; retry later"}
        assert waited < 30, waited

        retried = client.post(URL_PATH, json={"n": 1}, headers={"Idempotency-Key": key})
        assert retried.status_code == 200, retried.text
        assert retried.json()["duplicate"] is False  # the 503 wrote nothing
        again = client.post(URL_PATH, json={"n": 1}, headers={"Idempotency-Key": key})
        assert again.json()["duplicate"] is True and again.json()["id"] == retried.json()["id"]
    assert stack.get_run("load_sqlite", retried.json()["id"]) is not None
    log = stack.log("api-server")
    assert "answered 503, database unavailable: OperationalError" in log
    assert "Webhook request for DAG load_sqlite failed" not in log  # the blueprint's 500 path


@sqlite_pass_only
def test_busy_timeout_too_short_for_the_load_still_only_200_or_503(impatient_stack):
    """With the lock held on and off by another writer, 8 x 10 deliveries: 200 or 503 only."""
    stack = impatient_stack
    lock = sqlite3.connect(stack.home / "airflow.db", isolation_level=None, timeout=30)

    def sender(n: int) -> list[tuple[int, str | None]]:
        with httpx.Client(base_url=stack.url, timeout=60) as client:
            answers = []
            for i in range(10):
                response = client.post(URL_PATH, json={"sender": n, "i": i})
                answers.append((response.status_code, response.json().get("id") if response.status_code == 200 else None))
            return answers

    with ThreadPoolExecutor(8) as pool:
        pending = [pool.submit(sender, n) for n in range(8)]
        while not all(p.done() for p in pending):
            lock.execute("BEGIN IMMEDIATE")
            time.sleep(0.8)
            lock.execute("COMMIT")
            time.sleep(0.3)
        answers = [a for p in pending for a in p.result()]
    lock.close()
    statuses = collections.Counter(status for status, _ in answers)
    print(f"\nSQLite, busy timeout 0.5 s, lock held 0.8 s of every 1.1 s: {dict(statuses)}")
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[503] >= 1  # the lock really got in the way
    known = {run["dag_run_id"] for run in stack.list_runs("load_sqlite")}
    assert all(run_id in known for status, run_id in answers if status == 200)

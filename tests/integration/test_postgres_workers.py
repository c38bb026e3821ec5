"""An api-server of several workers on PostgreSQL, and PostgreSQL going down under it.

Each uvicorn worker is its own process with its own webhook index, so a DAG added later must
reach every worker's index, and a database outage must be answered by every worker the same
way: **503 with Retry-After**, quickly, never a 500, never a hang, never a 404 (the index
already in memory keeps being served); once the database is back, 200 again.

The database is a throwaway PostgreSQL server of this module's own (``PrivateCluster``):
stopping the machine's cluster would pull the database from under every other Airflow using it.
Each request goes over a new connection, and the test asks the kernel (through ``psutil``)
which worker process holds the server side of it, so "every worker" is checked, not assumed.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from tools import postgres
from tools.stack import AirflowStack
from tools.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
PLAIN = "/api/v1/executions/webhook/t4pg/postgres_faults/t4pg-faults"
SECRET_KEY = "t4pg-faults-key-from-the-database"
BY_SECRET = f"/api/v1/executions/webhook/t4pg/postgres_faults_secret/{SECRET_KEY}"
CONNECT_TIMEOUT = 3  # seconds, libpq's connect_timeout: how long a dead database host is waited for
BOUND = 15.0  # seconds: an answer slower than this is a hang (measured times are printed)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    retry_after: str | None
    worker: int | None
    seconds: float


@pytest.fixture(scope="module")
def cluster():
    if not postgres.available():
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with postgres.PrivateCluster() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(cluster):
    link = TcpProxy(cluster.socket_path)
    yield link
    link.close()


@pytest.fixture(scope="module")
def pg_stack(proxy):
    stack = AirflowStack([], database_url=f"postgresql+psycopg2://postgres@127.0.0.1:{proxy.port}/airflow", workers=2)
    stack.set_connect_args({"connect_timeout": CONNECT_TIMEOUT})  # libpq waits forever by default
    for dag_id in ("postgres_faults", "postgres_faults_secret"):
        shutil.copy(REPO / "tests" / "dags" / f"{dag_id}.py", stack.dags)
    try:
        stack.start()
        yield stack
    finally:
        stack.cleanup()


@pytest.fixture(scope="module")
def workers(pg_stack):
    client = Workers(pg_stack)
    assert len(client.pids) == 2, client.pids
    return client


class Workers:
    """Sends each request over a new connection and notes which api-server worker answered it."""

    def __init__(self, stack: AirflowStack) -> None:
        self.stack = stack
        self.pids = stack.worker_pids()

    def _worker_of(self, client_port: int) -> int | None:
        for pid in self.pids:
            if any(c.raddr and c.raddr.port == client_port for c in psutil.Process(pid).net_connections("tcp")):
                return pid
        return None

    def send(self, path: str = PLAIN) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=60)
        started = time.monotonic()
        try:
            conn.connect()
            client_port = conn.sock.getsockname()[1]
            conn.request("POST", path, body=b'{"event": "t4pg"}', headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            raw = response.read()
            seconds = time.monotonic() - started
            worker = self._worker_of(client_port)  # while the connection is still open
        finally:
            conn.close()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return Reply(response.status, body, response.getheader("Retry-After"), worker, seconds)

    def send_to_every_worker(self, path: str = PLAIN, *, at_least: int = 10, most: int = 80) -> list[Reply]:
        """At least ``at_least`` requests, and more until every worker has answered (at most ``most``)."""
        replies: list[Reply] = []
        while len(replies) < at_least or {r.worker for r in replies} < self.pids:
            assert len(replies) < most, f"the kernel gave {most} connections to workers {[r.worker for r in replies]}"
            replies.append(self.send(path))
        return replies

    def wait_for_200(self, path: str = PLAIN, timeout: float = 60) -> float:
        """Seconds until a round of requests reaching every worker is answered 200 throughout."""
        started = time.monotonic()
        while True:
            replies = self.send_to_every_worker(path, at_least=4)
            if all(r.status == 200 for r in replies):
                return time.monotonic() - started
            assert {r.status for r in replies} <= {200, 404, 503}, replies
            assert time.monotonic() - started < timeout, f"not 200 on every worker after {timeout} s: {replies[-4:]}"
            time.sleep(0.5)


@contextmanager
def database_down(cluster: postgres.PrivateCluster) -> Iterator[None]:
    cluster.stop()
    try:
        yield
    finally:
        cluster.start()


def assert_all_503(replies: list[Reply], what: str) -> None:
    seconds = [r.seconds for r in replies]
    print(f"\n{what}: {len(replies)} answers {sorted({r.status for r in replies})} from workers "
          f"{sorted({r.worker for r in replies})}; answer time median {statistics.median(seconds) * 1000:.0f} ms, "
          f"max {max(seconds) * 1000:.0f} ms")
    for reply in replies:
        assert reply.status == 503, reply
        assert reply.retry_after is not None and int(reply.retry_after) >= 1, reply
        assert reply.body["message"].startswith("Service Unavailable:"), reply
        assert reply.seconds < BOUND, reply


def test_first_index_load_without_database_answers_503(workers, cluster):
    """Before any webhook request, no worker has loaded its index: with the database down, the
    first load fails and every worker answers 503, not 500; once it is back, 200."""
    with database_down(cluster):
        assert_all_503(workers.send_to_every_worker(), "database down before the first index load")
    print(f"200 on every worker {workers.wait_for_200():.1f} s after the database started again")


def test_dag_added_later_is_served_by_every_worker(workers):
    workers.wait_for_200()  # every worker has loaded its index before the DAG exists
    path = "/api/v1/executions/webhook/t4pg/postgres_added/t4pg-added-key"
    assert {r.status for r in workers.send_to_every_worker(path, at_least=4)} == {404}
    (workers.stack.dags / "postgres_added.py").write_text(textwrap.dedent('''
        from airflow.sdk import DAG, task

        with DAG(dag_id="postgres_added", schedule=None,
                 params={"webhook": {"key": "t4pg-added-key", "namespace": "t4pg"}}):
            @task
            def noop():
                return None

            noop()
    '''))
    workers.stack.airflow("dags", "reserialize")
    print(f"\nDAG added: 200 on every worker {workers.wait_for_200(path, timeout=30):.1f} s after reserialize")
    replies = workers.send_to_every_worker(path, at_least=20)
    assert [r.status for r in replies] == [200] * len(replies), replies
    assert {r.worker for r in replies} == workers.pids
    for reply in replies:
        assert workers.stack.get_run("postgres_added", reply.body["dag_run_id"]) is not None


def test_database_down_answers_503_quickly_then_200_again(workers, cluster):
    status, body = workers.stack.api("POST", "/api/v2/variables", {"key": "PG_FAULTS_KEY", "value": SECRET_KEY})
    assert status in (200, 201), body
    workers.wait_for_200()
    workers.wait_for_200(BY_SECRET)  # the key is read from the database on each request (no cache)

    with database_down(cluster):
        # the literal key is found in the index in memory; creating the run needs the database
        assert_all_503(workers.send_to_every_worker(), "database down, literal key")
        # the key is an Airflow Variable: reading it needs the database (not a 404 "not found")
        assert_all_503(workers.send_to_every_worker(BY_SECRET), "database down, key from secret()")
        time.sleep(2)  # several failed index refreshes later, the index is still served
        assert_all_503(workers.send_to_every_worker(at_least=4), "database down for 2 s more")

    back = workers.wait_for_200()
    print(f"200 on every worker {back:.1f} s after the database started again")
    workers.wait_for_200(BY_SECRET)
    for reply in workers.send_to_every_worker(at_least=6):
        assert reply.status == 200, reply
        assert workers.stack.get_run("postgres_faults", reply.body["dag_run_id"]) is not None


def test_database_host_unreachable_answers_503_within_the_connect_timeout(workers, proxy):
    """The database host stops answering (open connections dropped, new ones never answered):
    each answer waits for libpq's ``connect_timeout`` ([database] sql_alchemy_connect_args), then
    503. Without a connect timeout these requests would hang for as long as the outage lasts."""
    workers.wait_for_200()
    proxy.cut()
    try:
        replies = workers.send_to_every_worker(at_least=4)
        assert_all_503(replies, f"database host unreachable, connect_timeout={CONNECT_TIMEOUT} s")
    finally:
        proxy.restore()
    print(f"200 on every worker {workers.wait_for_200():.1f} s after the database host answered again")

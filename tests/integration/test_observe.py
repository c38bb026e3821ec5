"""Every delivery to a known DAG lands in Airflow's audit log; metrics reach StatsD.

The audit entries are read back through Airflow's own REST API (``/api/v2/eventLogs``), the
way Browse -> Audit Log and the Webhooks page read them. The metrics test starts its own
Airflow with ``[metrics] statsd_on`` pointed at a UDP socket this test listens on.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from airflow_webhook_trigger.signatures import SignatureSpec, sign
from tools.stack import AirflowStack

pytestmark = pytest.mark.integration

DAGS = Path(__file__).resolve().parents[1] / "dags"
PREFIX = "/api/v1/executions/webhook"
KEY = "t6-audit-KEY-must-not-leak"
BODY_MARKER = "BODY-MARKER-must-not-leak"


def _audit_entries(stack, dag_id: str, want: int, timeout: float = 30) -> list[dict]:
    """Poll the REST API until ``want`` webhook entries exist for ``dag_id`` (batches land ~0.5 s later)."""
    deadline = time.monotonic() + timeout
    entries: list[dict] = []
    while time.monotonic() < deadline:
        status, body = stack.api("GET", f"/api/v2/eventLogs?event=webhook&dag_id={dag_id}&limit=100")
        assert status == 200, body
        entries = body["event_logs"]
        if len(entries) >= want:
            return entries
        time.sleep(0.5)
    raise AssertionError(f"{len(entries)} audit entries for {dag_id} after {timeout}s, wanted {want}: {entries}")


def test_deliveries_to_a_known_dag_are_in_the_audit_log_without_keys(stack, hook):
    triggered = hook("POST", "t6", "audit_log_rows", KEY, json={"go": True, "marker": BODY_MARKER})
    assert triggered.status_code == 200, triggered.text
    run_id = triggered.json()["dag_run_id"]
    assert hook("POST", "t6", "audit_log_rows", KEY, json={"go": False, "marker": BODY_MARKER}).status_code == 204
    assert hook("POST", "t6", "audit_log_rows", "wrong-KEY-must-not-leak", json={"marker": BODY_MARKER}).status_code == 404
    assert hook("POST", "t6", "audit_log_rows", "t6-off-KEY-must-not-leak").status_code == 409
    assert hook("POST", "t6", "audit_no_such_dag", KEY).status_code == 404  # unknown DAG: not recorded

    entries = _audit_entries(stack, "audit_log_rows", want=4)
    assert len(entries) == 4
    extras = {json.loads(e["extra"])["status"]: (e, json.loads(e["extra"])) for e in entries}
    assert sorted(extras) == [200, 204, 404, 409]

    entry, extra = extras[200]
    assert entry["run_id"] == run_id and entry["owner"] == "webhook:t6/main"
    assert extra == {"namespace": "t6", "trigger": "main", "status": 200, "outcome": "triggered",
                     "reason": "run created", "duration_ms": extra["duration_ms"], "method": "POST"}
    assert extra["duration_ms"] > 0
    assert extras[204][1]["outcome"] == "204" and "conditions not met" in extras[204][1]["reason"]
    assert extras[404][0]["owner"] == "webhook:t6" and extras[404][1]["trigger"] is None
    assert extras[404][1]["reason"] == "wrong key" and extras[404][1]["count"] == 1  # a summary row (audit.py)
    assert extras[409][0]["owner"] == "webhook:t6/off" and extras[409][1]["reason"] == "trigger disabled"

    everything = json.dumps(entries)
    for secret in ("KEY-must-not-leak", BODY_MARKER):
        assert secret not in everything
    status, unknown = stack.api("GET", "/api/v2/eventLogs?event=webhook&dag_id=audit_no_such_dag")
    assert status == 200 and unknown["total_entries"] == 0


class _StatsdListener:
    """A UDP socket collecting StatsD lines (``name:value|type``)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except OSError:
                continue
            self.lines.extend(data.decode(errors="replace").splitlines())

    def count(self, name: str) -> int:
        return sum(int(float(line.split(":", 1)[1].split("|", 1)[0])) for line in self.lines
                   if line.split(":", 1)[0] == name and line.endswith("|c"))

    def has_timer(self, name: str) -> bool:
        return any(line.split(":", 1)[0] == name and line.endswith("|ms") for line in self.lines)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def test_metrics_reach_statsd():
    listener = _StatsdListener()
    folder = Path(tempfile.mkdtemp(prefix="t6-metrics-dags-"))
    shutil.copy(DAGS / "metrics_statsd.py", folder)
    secret = "t6-metrics-secret"
    env = {
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(listener.port),
        "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
        "AIRFLOW_VAR_METRICS_SECRET": secret,
    }
    try:
        with AirflowStack([folder], env=env) as stack, httpx.Client(base_url=stack.url, timeout=60) as client:
            stack.start()
            url = f"{PREFIX}/t6/metrics_statsd/t6-metrics-key"
            body = json.dumps({"zen": "Keep it logically awesome."}).encode()
            headers = {"Content-Type": "application/json", "X-GitHub-Event": "ping",
                       **sign(SignatureSpec("github", "{{ secret('METRICS_SECRET') }}"), secret, body,
                              delivery_id="t6-delivery-1")}
            assert client.post(url, content=body, headers=headers).status_code == 200
            again = client.post(url, content=body, headers=headers)
            assert again.status_code == 200 and again.json()["duplicate"] is True
            forged = {**headers, "x-hub-signature-256": "sha256=" + "0" * 64}
            assert client.post(url, content=body, headers=forged).status_code == 401
            assert client.post(f"{PREFIX}/t6/no_such_dag/k").status_code == 404

            wanted = {
                "airflow.webhook_trigger.deliveries": 4,
                "airflow.webhook_trigger.deliveries.triggered": 1,
                "airflow.webhook_trigger.deliveries.duplicate": 1,
                "airflow.webhook_trigger.deliveries.401": 1,
                "airflow.webhook_trigger.deliveries.404": 1,
                "airflow.webhook_trigger.runs_created": 1,
                "airflow.webhook_trigger.duplicates": 1,
                "airflow.webhook_trigger.signature_failures": 1,
            }
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and any(listener.count(n) < c for n, c in wanted.items()):
                time.sleep(0.2)
            assert {n: listener.count(n) for n in wanted} == wanted, listener.lines
            assert listener.has_timer("airflow.webhook_trigger.latency"), listener.lines
    finally:
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)


def _wrong_keys_counted(stack) -> int:
    status, body = stack.api("GET", "/api/v2/eventLogs?event=webhook&dag_id=audit_log_rows&limit=100")
    assert status == 200, body
    return sum(json.loads(e["extra"]).get("count") or 0 for e in body["event_logs"])


@pytest.mark.airflow3_only
def test_audit_rows_still_buffered_when_an_api_server_worker_stops_are_written():
    """Wrong-key counts still in memory (a summary window far longer than the test) reach the
    audit log when the api-server's workers stop: uvicorn ends a worker by re-raising SIGTERM, so
    atexit never runs there (the rows were lost); the plugin writes them at the lifespan's
    shutdown. Then once more with ``[api] server_type = gunicorn`` (3.2+, rolling restarts),
    where Airflow also disposes the ORM in gunicorn's ``worker_exit`` hook."""
    env = {"AIRFLOW__WEBHOOK_TRIGGER__WRONG_KEY_SUMMARY_SECONDS": "3600"}
    with AirflowStack([DAGS], workers=2, env=env) as stack:
        stack.start()
        total = 0
        for server_type, wrong in (("uvicorn", 6), ("gunicorn", 4)):
            with httpx.Client(base_url=stack.url, timeout=30) as client:
                for _ in range(wrong):
                    answer = client.post(f"{PREFIX}/t6/audit_log_rows/wrong-key-at-exit", json={})
                    assert answer.status_code == 404, answer.text
            assert _wrong_keys_counted(stack) == total  # the new ones are still buffered: the window is an hour
            stack.stop_process("api-server")
            assert "they are lost" not in stack.log("api-server")
            total += wrong
            stack.env["AIRFLOW__API__SERVER_TYPE"] = "gunicorn"  # for the next start (ignored before 3.2)
            stack.start_api_server()
            deadline = time.monotonic() + 30
            while _wrong_keys_counted(stack) < total and time.monotonic() < deadline:
                time.sleep(0.5)
            assert _wrong_keys_counted(stack) == total, server_type

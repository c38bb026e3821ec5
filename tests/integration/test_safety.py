"""Safe where it really runs: one api-server served under a sub-path (``[api] base_url`` =
``http://127.0.0.1:PORT/airflow``), the way operators put Airflow behind a shared host.

Each test is one threat of docs/security.md, sent over real sockets: keys in the access log,
bodies cut off by the client, wrong-key floods in the audit log, abandoned waits holding the
webhook threads, literal keys, masked headers and parameters, rotated signature secrets,
run-id collisions and unsigned delivery ids, status codes out of range, log floods.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tools.stack import AIRFLOW_MAJOR, AIRFLOW_VERSION, AirflowStack

pytestmark = [pytest.mark.integration, pytest.mark.airflow3_only]

REPO = Path(__file__).resolve().parents[2]
KEY = "Sk3y-safety-0a1b2c3d"
WRONG = "wrong-key-zz9y8x7w"
ROT_OLD, ROT_NEW = "rotation-old-secret", "rotation-new-secret"
BASE = "/airflow"
PREFIX = f"{BASE}/api/v1/executions/webhook"
SUMMARY_SECONDS = 10  # the wrong-key summary window (60 s by default), short for the test


@pytest.fixture(scope="module")
def safe():
    env = {
        "AIRFLOW_VAR_SAFETY_KEY": KEY,
        "AIRFLOW_VAR_ROT_OLD": ROT_OLD,
        "AIRFLOW_VAR_ROT_NEW": ROT_NEW,
        "AIRFLOW__WEBHOOK_TRIGGER__ALLOW_LITERAL_KEYS": "False",
        "AIRFLOW__WEBHOOK_TRIGGER__MASKED_HEADERS": "X-Custom-Token",
        "AIRFLOW__WEBHOOK_TRIGGER__MASKED_PARAMETERS": "Token",
        "AIRFLOW__WEBHOOK_TRIGGER__MAX_CONCURRENT_WAITS": "16",
        "AIRFLOW__WEBHOOK_TRIGGER__WRONG_KEY_SUMMARY_SECONDS": str(SUMMARY_SECONDS),
    }
    airflow = AirflowStack([REPO / "tests" / "dags_safety"], env=env, base_path=BASE)
    try:
        airflow.start()
        yield airflow
    finally:
        airflow.cleanup()


@pytest.fixture(scope="module")
def client(safe):
    with httpx.Client(base_url=safe.root_url, timeout=60) as c:
        yield c


def _raw(safe, request: bytes, *, read: bool = True, timeout: float = 30) -> bytes:
    """Send bytes as they are on one connection; the answer (until close), or b"" if not read."""
    with socket.create_connection(("127.0.0.1", safe.port), timeout=timeout) as sock:
        sock.sendall(request)
        if not read:
            return b""
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


def _audit(safe, dag_id: str) -> list[dict]:
    status, body = safe.api("GET", f"/api/v2/eventLogs?event=webhook&dag_id={dag_id}&limit=100")
    assert status == 200, body
    return [dict(row, extra=json.loads(row["extra"] or "{}")) for row in body["event_logs"]]


def _listing(safe) -> dict:
    """``airflow-webhooks list --json`` (the console script: every Airflow release has it)."""
    script = str(Path(sys.executable).with_name("airflow-webhooks"))
    done = subprocess.run([script, "list", "--json"], env=safe.env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _runs(safe, dag_id: str) -> list[dict]:
    return safe.list_runs(dag_id)


def _github_headers(secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


# --- 1. keys in the access log, under a sub-path --------------------------------------------------


def test_no_key_reaches_the_access_log_under_a_sub_path(safe, client):
    genuine = client.post(f"{PREFIX}/safety/safety_key/{KEY}", json={"a": 1})
    assert genuine.status_code == 200, genuine.text
    assert genuine.json()["url"].startswith(f"{safe.url}/dags/safety_key/runs/")  # the run link keeps /airflow
    odd = [
        f"{PREFIX}/safety/safety_key/{KEY}/extra",
        f"{PREFIX}/safety//{KEY}",
        f"{PREFIX}//safety_key/{KEY}",
        f"{PREFIX}/safety/safety_key%2F{KEY}",
        f"{PREFIX}/safety%2Fsafety_key%2F{KEY}",
        f"{PREFIX}/safety/..%2F..%2Fx/{KEY}",
        f"{PREFIX}/safety/../../x/{KEY}",
        f"{PREFIX}/safety/safety_key/x/{KEY}",
        f"{BASE}/api/v1/executions/webhook/safety/safety_key/{KEY}?q=1",
    ]
    for path in odd:
        answer = _raw(safe, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 "), (path, answer[:200])
    time.sleep(1)
    log = safe.log("api-server").replace("%2A%2A%2A", "***")  # uvicorn (3.0/3.1) quotes it
    assert "/safety_key/***" in log  # the lines are there, masked
    assert KEY not in log


# --- 2. a body cut off by the client --------------------------------------------------------------


def test_a_cut_off_body_creates_nothing_and_its_retry_is_a_new_run(safe, client):
    before = len(_runs(safe, "safety_key"))
    head = (f"POST {PREFIX}/safety/safety_key/{KEY} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Idempotency-Key: cut-off-1\r\n")
    _raw(safe, (head + "Content-Length: 1000\r\n\r\n").encode() + b'{"cut": "o', read=False)
    _raw(safe, (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + b'a\r\n{"cut": "o\r\n', read=False)
    time.sleep(2)
    assert len(_runs(safe, "safety_key")) == before
    assert not [row for row in _audit(safe, "safety_key") if "cut-off-1" in (row.get("run_id") or "")]
    retry = client.post(f"{PREFIX}/safety/safety_key/{KEY}", json={"cut": "off"}, headers={"Idempotency-Key": "cut-off-1"})
    assert retry.status_code == 200, retry.text
    assert retry.json()["duplicate"] is False
    run = safe.get_run("safety_key", retry.json()["dag_run_id"])
    assert run["conf"]["body"] == {"cut": "off"}


# --- 3. wrong-key floods ------------------------------------------------------------------------


def test_a_wrong_key_flood_is_one_summary_row_and_never_costs_a_genuine_row(safe):
    url = f"{PREFIX}/safety/safety_masked/{WRONG}"

    def flood(n: int) -> None:
        with httpx.Client(base_url=safe.root_url, timeout=60) as c:
            for _ in range(n):
                assert c.post(url, content=b"x").status_code == 404

    threads = [threading.Thread(target=flood, args=(500,)) for _ in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    windows = int((time.monotonic() - started) // SUMMARY_SECONDS) + 2  # a flood spans at most these
    with httpx.Client(base_url=safe.root_url, timeout=60) as c:
        genuine = c.post(f"{PREFIX}/safety/safety_masked/{KEY}?token=real-param", json={},
                         headers={"X-Custom-Token": "real-token"})
    assert genuine.status_code == 200, genuine.text
    deadline = time.monotonic() + SUMMARY_SECONDS + 30
    while time.monotonic() < deadline:
        rows = _audit(safe, "safety_masked")
        summaries = [r for r in rows if r["extra"].get("reason") == "wrong key"]
        if sum(r["extra"].get("count", 0) for r in summaries) >= 2000:
            break
        time.sleep(1)
    assert 1 <= len(summaries) <= windows, [r["extra"] for r in summaries]  # one row per window, not 2,000
    assert len(rows) == len(summaries) + 1
    assert sum(r["extra"]["count"] for r in summaries) == 2000
    assert any(r["run_id"] == genuine.json()["dag_run_id"] for r in rows)


# --- 5. abandoned waits -------------------------------------------------------------------------


def _wait_request(body: bytes = b"{}") -> bytes:
    return (f"POST {PREFIX}/safety/safety_wait/{KEY} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def test_abandoned_waits_free_their_threads(safe, client):
    for _ in range(80):  # each client sends its wait request and goes away
        _raw(safe, _wait_request(), read=False)
    time.sleep(3)
    with httpx.Client(base_url=safe.root_url, timeout=30) as c:  # generous: answers come at once
        for i in range(20):
            answer = c.post(f"{PREFIX}/safety/safety_key/{KEY}", json={"after_abandoned": i})
            assert answer.status_code == 200, answer.text
    # their wait slots are free again: 16 live waits fit
    held = [socket.create_connection(("127.0.0.1", safe.port), timeout=30) for _ in range(16)]
    try:
        for sock in held:
            sock.sendall(_wait_request())
        time.sleep(3)
        for sock in held:  # each is waiting (its run never ends here): had the abandoned waits kept
            sock.settimeout(0.2)  # their slots until the 300 s timeout, these would be 503s by now
            try:
                early = sock.recv(256)
            except socket.timeout:
                early = b""
            assert early == b"", early
        runs_before = len(_runs(safe, "safety_wait"))
        over = client.post(f"{PREFIX}/safety/safety_wait/{KEY}", json={})
        assert over.status_code == 503, over.text
        assert int(over.headers["Retry-After"]) > 0
        assert len(_runs(safe, "safety_wait")) == runs_before  # over the cap: no run
    finally:
        for sock in held:
            sock.close()
    time.sleep(3)
    with httpx.Client(base_url=safe.root_url, timeout=30) as c:
        assert c.post(f"{PREFIX}/safety/safety_key/{KEY}", json={}).status_code == 200


# --- 6. literal keys ----------------------------------------------------------------------------


def test_a_literal_key_is_refused_when_literal_keys_are_not_allowed(safe, client):
    assert client.post(f"{PREFIX}/safety/safety_literal/safety-literal-key").status_code == 404
    listing = _listing(safe)
    reasons = {i["dag_id"]: i["reason"] for i in listing["invalid"]}
    assert "secret" in reasons["safety_literal"], reasons
    assert all("/airflow/api/v1/executions/webhook/" in w["url"] for w in listing["webhooks"])


# --- 7. masked headers and parameters -----------------------------------------------------------


def test_operator_masked_header_and_parameter_reach_conditions_not_the_conf(safe, client):
    answer = client.post(f"{PREFIX}/safety/safety_masked/{KEY}?token=real-param&other=1", json={"x": 1},
                         headers={"X-Custom-Token": "real-token"})
    assert answer.status_code == 200, answer.text  # the condition saw the real values
    conf = safe.get_run("safety_masked", answer.json()["dag_run_id"])["conf"]
    assert conf["headers"]["x-custom-token"] == ["***"]
    assert conf["parameters"] == {"token": ["***"], "other": ["1"]}
    assert conf["token_length"] == len("real-param")  # inputs saw it too
    assert "real-token" not in safe.log("api-server") and "real-param" not in safe.log("api-server")


# --- 8. secret rotation -------------------------------------------------------------------------


def test_a_rotated_signature_secret_accepts_old_and_new(safe, client):
    url = f"{PREFIX}/safety/safety_signed/{KEY}-rot"
    for secret in (ROT_OLD, ROT_NEW):
        body = json.dumps({"secret": secret[:3]}).encode()
        answer = client.post(url, content=body, headers=_github_headers(secret, body))
        assert answer.status_code == 200, answer.text
    body = b"{}"
    assert client.post(url, content=body, headers=_github_headers("not-a-secret", body)).status_code == 401


# --- 9. replays and run-id collisions -----------------------------------------------------------


def test_run_ids_of_different_deliveries_never_collide(safe, client):
    ab = client.post(f"{PREFIX}/safety/safety_runids/{KEY}-ab", json={}, headers={"Idempotency-Key": "c"})
    a = client.post(f"{PREFIX}/safety/safety_runids/{KEY}-a", json={}, headers={"Idempotency-Key": "b__c"})
    assert ab.status_code == a.status_code == 200
    assert ab.json()["dag_run_id"] != a.json()["dag_run_id"] and not a.json()["duplicate"]
    hashed = client.post(f"{PREFIX}/safety/safety_runids/{KEY}-a", json={}, headers={"Idempotency-Key": "x y"})
    digest = hashlib.sha256(b"x y").hexdigest()[:40]
    literal = client.post(f"{PREFIX}/safety/safety_runids/{KEY}-a", json={}, headers={"Idempotency-Key": digest})
    assert hashed.json()["dag_run_id"] != literal.json()["dag_run_id"] and not literal.json()["duplicate"]


def test_an_unsigned_idempotency_key_is_not_a_signed_triggers_delivery_id(safe, client):
    url = f"{PREFIX}/safety/safety_runids/{KEY}-gh"
    answers = []
    for n in range(2):
        body = json.dumps({"n": n}).encode()
        headers = {**_github_headers(ROT_NEW, body), "Idempotency-Key": "chosen-by-anyone"}
        answers.append(client.post(url, content=body, headers=headers))
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["dag_run_id"] != answers[1].json()["dag_run_id"]
    assert not answers[1].json()["duplicate"]


# --- 10. status codes, log floods ---------------------------------------------------------------


def test_a_response_code_out_of_range_is_refused(safe, client):
    listing = _listing(safe)
    reasons = {i["dag_id"]: i["reason"] for i in listing["invalid"]}
    assert "responseCode" in reasons.get("safety_codes", ""), reasons
    assert client.post(f"{PREFIX}/safety/safety_codes/{KEY}", json={}).status_code == 404


def _render_warnings(safe) -> int:
    return len([line for line in safe.log("api-server").splitlines() if "broken" in line and "failed to render" in line])


def test_a_key_that_fails_to_render_is_logged_once_a_minute(safe, client):
    client.post(f"{PREFIX}/safety/safety_runids/anything", json={})
    time.sleep(0.5)
    before = _render_warnings(safe)
    assert before >= 1  # the failure is logged...
    for _ in range(50):
        assert client.post(f"{PREFIX}/safety/safety_runids/anything", json={}).status_code == 404
    time.sleep(1)
    assert _render_warnings(safe) - before <= 1  # ...but not once per request (one more if a minute turned)


def test_the_stack_really_serves_under_the_sub_path(safe):
    assert AIRFLOW_MAJOR >= 3 and safe.url.endswith(BASE)
    assert httpx.get(f"{safe.root_url}/api/v1/executions/webhook/safety/safety_key/{KEY}").status_code != 200


@pytest.mark.requires_airflow(3, 1)  # the page: external_views, 3.1+
def test_the_webhooks_page_under_the_sub_path(safe, client):
    # 3.1 has no all-admins middleware minting a token per request: send one, as a browser would
    auth = {"Authorization": f"Bearer {safe.token()}"} if AIRFLOW_VERSION[:2] == (3, 1) else {}
    page = client.get(f"{BASE}/webhook-trigger-ui/", headers=auth)
    assert page.status_code == 200, page.text[:500]
    assert f'data-masked="{safe.url}/api/v1/executions/webhook/safety/safety_key/***"' in page.text
    assert KEY not in page.text
    flooded = client.get(f"{BASE}/webhook-trigger-ui/dags/safety_masked", headers=auth)  # its deliveries
    assert flooded.status_code == 200 and "wrong key: " in flooded.text  # the flood's summary rows, read as such
    assert KEY not in flooded.text

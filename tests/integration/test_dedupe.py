"""Each delivery runs exactly once, whichever way the sender identifies it.

``tests/dags/dedupe_deliveries.py`` has one trigger per source of a delivery id. A redelivery must be
answered 200 with the same run id and ``"duplicate": true``, and the REST API must hold exactly
one run for it, also when the copies arrive at the same moment.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from airflow_webhook_trigger.signatures import parse_signature, sign

pytestmark = pytest.mark.integration

DAG_ID = "dedupe_deliveries"
SECRET = "t4-dedupe-secret"
WHSEC = "whsec_dDQtZGVkdXBlLXN0YW5kYXJkLWtleQ=="
PREFIX = "/api/v1/executions/webhook/default/dedupe_deliveries"


def set_variable(stack, key: str, value: str) -> None:
    status, body = stack.api("POST", "/api/v2/variables", {"key": key, "value": value})
    if status == 409:
        status, body = stack.api("PATCH", f"/api/v2/variables/{key}", {"key": key, "value": value})
    assert status in (200, 201), body


@pytest.fixture(scope="module", autouse=True)
def secrets(stack):
    set_variable(stack, "DEDUPE_SECRET", SECRET)
    set_variable(stack, "DEDUPE_WHSEC", WHSEC)


def spec(kind: str):
    return parse_signature({"type": kind, "secret": "{{ secret('DEDUPE_SECRET') }}"})


def runs_with_marker(stack, marker: str) -> list[dict]:
    """Runs of the DAG whose conf carries ``marker`` anywhere in its body (whatever the run id)."""
    return [run for run in stack.list_runs(DAG_ID) if marker in str((run.get("conf") or {}).get("body"))]


def send(http, trigger: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return http.post(f"{PREFIX}/t4-dedupe-{trigger}", content=body,
                     headers={"Content-Type": "application/json", **headers})


def assert_one_run_for_two_deliveries(stack, first: httpx.Response, second: httpx.Response, marker: str) -> None:
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert first.json()["duplicate"] is False
    assert second.json()["duplicate"] is True
    assert second.json()["id"] == first.json()["id"]
    runs = runs_with_marker(stack, marker)
    assert [run["dag_run_id"] for run in runs] == [first.json()["id"]]


def test_github_redelivery_same_x_github_delivery(stack, http):
    marker = uuid.uuid4().hex
    body = f'{{"zen": "Keep it logically awesome.", "marker": "{marker}"}}'.encode()
    delivery = str(uuid.uuid4())
    first = send(http, "github", body, sign(spec("github"), SECRET, body, delivery_id=delivery))
    second = send(http, "github", body, sign(spec("github"), SECRET, body, delivery_id=delivery))
    assert_one_run_for_two_deliveries(stack, first, second, marker)
    assert delivery in first.json()["id"]


def test_declared_delivery_id_from_the_body(stack, http):
    marker = uuid.uuid4().hex
    event_id = f"evt-{marker}"
    first = send(http, "declared", f'{{"event_id": "{event_id}", "attempt": 1}}'.encode(), {})
    # a retry may differ in anything but the declared id (here: the attempt number)
    second = send(http, "declared", f'{{"event_id": "{event_id}", "attempt": 2}}'.encode(), {})
    assert_one_run_for_two_deliveries(stack, first, second, marker)
    other = send(http, "declared", f'{{"event_id": "{event_id}-b", "attempt": 1}}'.encode(), {})
    assert other.status_code == 200 and other.json()["duplicate"] is False
    assert other.json()["id"] != first.json()["id"]
    assert len(runs_with_marker(stack, marker)) == 2


def test_stripe_event_id(stack, http):
    marker = uuid.uuid4().hex
    body = f'{{"id": "evt_{marker}", "object": "event", "type": "invoice.paid"}}'.encode()
    first = send(http, "stripe", body, sign(spec("stripe"), SECRET, body))
    time.sleep(1.1)  # Stripe signs each attempt anew: another timestamp, the same event id
    second = send(http, "stripe", body, sign(spec("stripe"), SECRET, body))
    assert_one_run_for_two_deliveries(stack, first, second, marker)


def test_standard_webhooks_webhook_id(stack, http):
    marker = uuid.uuid4().hex
    body = f'{{"type": "contact.created", "marker": "{marker}"}}'.encode()
    standard = parse_signature({"type": "standard", "secret": "{{ secret('DEDUPE_WHSEC') }}"})
    msg_id = f"msg_{marker}"
    first = send(http, "standard", body, sign(standard, WHSEC, body, delivery_id=msg_id))
    second = send(http, "standard", body, sign(standard, WHSEC, body, delivery_id=msg_id))
    assert_one_run_for_two_deliveries(stack, first, second, marker)
    assert msg_id in first.json()["id"]


@pytest.mark.parametrize("kind", ["gitlab", "shopify"])
def test_gitlab_and_shopify_delivery_headers(stack, http, kind):
    marker = uuid.uuid4().hex
    body = f'{{"object_kind": "push", "marker": "{marker}"}}'.encode()
    delivery = str(uuid.uuid4())
    first = send(http, kind, body, sign(spec(kind), SECRET, body, delivery_id=delivery))
    second = send(http, kind, body, sign(spec(kind), SECRET, body, delivery_id=delivery))
    assert_one_run_for_two_deliveries(stack, first, second, marker)


def test_idempotency_key_header(stack, http):
    marker = uuid.uuid4().hex
    key = f"idem-{marker}"
    first = send(http, "plain", f'{{"marker": "{marker}"}}'.encode(), {"Idempotency-Key": key})
    second = send(http, "plain", f'{{"marker": "{marker}"}}'.encode(), {"Idempotency-Key": key})
    assert_one_run_for_two_deliveries(stack, first, second, marker)


def test_without_any_delivery_id_every_request_is_a_run(stack, http):
    marker = uuid.uuid4().hex
    body = f'{{"marker": "{marker}"}}'.encode()
    first, second = send(http, "plain", body, {}), send(http, "plain", body, {})
    assert first.status_code == second.status_code == 200
    assert first.json()["duplicate"] is second.json()["duplicate"] is False
    assert first.json()["id"] != second.json()["id"]
    assert len(runs_with_marker(stack, marker)) == 2


def _deliver_until_answered(url: str, body: bytes, headers: dict[str, str], barrier: threading.Barrier) -> list[int]:
    """Send once at the barrier; on a 503 honour Retry-After (capped) and send again."""
    statuses = []
    with httpx.Client(timeout=120) as client:
        barrier.wait()
        for _ in range(20):
            response = client.post(url, content=body, headers=headers)
            statuses.append(response.status_code)
            if response.status_code != 503:
                return statuses + [response.json()]
            assert response.headers.get("Retry-After"), response.headers
            time.sleep(min(float(response.headers["Retry-After"]), 1.0))
    return statuses


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_redeliveries_make_exactly_one_run(stack, round_):
    marker = uuid.uuid4().hex
    body = f'{{"marker": "{marker}"}}'.encode()
    delivery = str(uuid.uuid4())
    headers = {"Content-Type": "application/json", **sign(spec("github"), SECRET, body, delivery_id=delivery)}
    threads = 8
    barrier = threading.Barrier(threads)
    url = f"{stack.url}{PREFIX}/t4-dedupe-github"
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda _: _deliver_until_answered(url, body, headers, barrier), range(threads)))
    for result in results:
        *statuses, answer = result
        assert set(statuses[:-1]) <= {503} and statuses[-1] == 200, result
    answers = [result[-1] for result in results]
    assert len({a["id"] for a in answers}) == 1, answers
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * (threads - 1), answers
    runs = runs_with_marker(stack, marker)
    assert [run["dag_run_id"] for run in runs] == [answers[0]["id"]]

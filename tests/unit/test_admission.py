"""Overload answers (``http/admission.py``): past the pending bound or the queue deadline a
request gets 503 with Retry-After at once, and the app never sees it."""

from __future__ import annotations

import asyncio
import json
import time

from airflow_webhook_trigger.http.admission import ENQUEUED_AT, AdmissionControl, QueueDeadline


def _http_scope() -> dict:
    return {"type": "http", "method": "POST", "path": "/x", "headers": []}


def test_requests_past_the_pending_bound_get_503_and_never_reach_the_app():
    release = asyncio.Event()
    served = []

    async def app(scope, receive, send):
        served.append(scope["path"])
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    control = AdmissionControl(app, limit=lambda: 2)

    async def one() -> list[dict]:
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        await control(_http_scope(), None, send)
        return sent

    async def scenario():
        first = [asyncio.create_task(one()) for _ in range(2)]
        await asyncio.sleep(0)  # both admitted and waiting in the app
        refused = await one()
        assert control.pending == 2
        release.set()
        return refused, await asyncio.gather(*first)

    refused, admitted = asyncio.run(scenario())
    assert refused[0]["status"] == 503 and dict(refused[0]["headers"])[b"retry-after"]
    assert json.loads(refused[1]["body"])["message"].startswith("Service Unavailable:")
    assert [answer[0]["status"] for answer in admitted] == [200, 200]
    assert len(served) == 2 and control.pending == 0 and control.refused == 1


def test_a_request_that_waited_too_long_for_a_thread_is_refused_unserved():
    calls = []

    def app(environ, start_response):
        calls.append(environ)
        start_response("200 OK", [])
        return [b"ok"]

    deadline = QueueDeadline(app, seconds=lambda: 1.0)
    started: list = []

    def start_response(status, headers, exc_info=None):
        started[:] = [status, dict(headers)]

    body = deadline({ENQUEUED_AT: time.monotonic() - 1.5}, start_response)
    assert started[0].startswith("503") and "retry-after" in started[1] and calls == []
    assert b"overloaded" in b"".join(body)
    assert deadline({ENQUEUED_AT: time.monotonic()}, start_response) == [b"ok"] and len(calls) == 1
    assert deadline({}, start_response) == [b"ok"]  # not behind the bridge: nothing to judge

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


def test_the_bridge_starts_the_queue_clock_only_for_a_request_that_queues_behind_busy_threads():
    """A free thread slow to start on a busy machine is not a queue: only a request handed over
    while every thread is busy carries ``ENQUEUED_AT`` (the 503 of QueueDeadline is for those)."""
    import threading

    from airflow_webhook_trigger.http.bridge import BufferedWSGIBridge

    release = threading.Event()
    seen: list[bool] = []

    def app(environ, start_response):
        seen.append(ENQUEUED_AT in environ)
        release.wait(10)
        start_response("200 OK", [])
        return [b"ok"]

    bridge = BufferedWSGIBridge(app, workers=2, body_limit=lambda scope: 10)

    async def one():
        sent: list = []
        messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

        async def receive():
            try:
                return next(messages)
            except StopIteration:
                await asyncio.sleep(3600)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/x", "raw_path": b"/x", "root_path": "",
                 "query_string": b"", "headers": [], "server": ("t", 80), "client": ("c", 1),
                 "http_version": "1.1", "scheme": "http"}
        await bridge(scope, receive, send)
        return sent

    async def scenario():
        tasks = [asyncio.ensure_future(one()) for _ in range(3)]
        for _ in range(50):
            await asyncio.sleep(0.01)
            if len(seen) == 2:
                break
        assert bridge.in_flight == 3
        release.set()
        return await asyncio.gather(*tasks)

    answers = asyncio.run(scenario())
    assert [a[0]["status"] for a in answers] == [200, 200, 200]
    assert sorted(seen) == [False, False, True] and bridge.in_flight == 0


CALLED: list[str] = []


def record_shutdown() -> None:
    CALLED.append("shutdown")


def test_the_fastapi_mount_runs_the_shutdown_hook_in_its_lifespan_and_passes_requests_through():
    """Airflow's api-server enters ``route.app.router.lifespan_context`` of FastAPI mounts only;
    requests must reach the wrapped app untouched."""
    from airflow_webhook_trigger.http.fastapi_mount import LazyFastAPIMount

    seen: list[str] = []

    async def inner(scope, receive, send):
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    mount = LazyFastAPIMount(inner, f"{__name__}:record_shutdown")
    CALLED.clear()

    async def scenario():
        async with mount.router.lifespan_context(mount):
            assert CALLED == []
            sent: list = []

            async def send(message):
                sent.append(message)

            await mount({"type": "http", "path": "/ns/dag/key"}, None, send)
            assert sent[0]["status"] == 204
        return CALLED[:]

    assert asyncio.run(scenario()) == ["shutdown"] and seen == ["/ns/dag/key"]

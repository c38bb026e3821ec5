"""Overload answers (``http/admission.py``): past the pending bound or the queue deadline a
request gets 503 with Retry-After at once, and the app never sees it."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from airflow_webhook_trigger.http.admission import AdmissionControl, refuse_queued
from airflow_webhook_trigger.http.bridge import BufferedWSGIBridge


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


def _http(path: str = "/x") -> dict:
    return {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "root_path": "",
            "query_string": b"", "headers": [], "server": ("t", 80), "client": ("c", 1),
            "http_version": "1.1", "scheme": "http"}


async def _call(app, scope: dict) -> list:
    sent: list = []
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

    async def receive():
        try:
            return next(messages)
        except StopIteration:
            await asyncio.sleep(3600)  # the client stays: no disconnect

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _held_bridge(active: int, max_queue_seconds: float) -> tuple[BufferedWSGIBridge, threading.Event, list[str]]:
    """A bridge whose app holds every request until ``release`` is set; ``served``: the paths it saw."""
    release = threading.Event()
    served: list[str] = []

    def app(environ, start_response):
        served.append(environ["PATH_INFO"])
        release.wait(10)
        start_response("200 OK", [])
        return [b"ok"]

    bridge = BufferedWSGIBridge(app, workers=4, body_limit=lambda scope: 10, active=active,
                                max_queue_seconds=lambda: max_queue_seconds, refused=refuse_queued)
    return bridge, release, served


def test_a_request_queued_behind_the_active_ones_past_the_deadline_gets_503_at_once_and_never_runs():
    """One active place, taken: the next request queues; after ``max_queue_seconds`` it is
    answered 503 from the event loop (not when the place frees up) and the app never sees it."""
    bridge, release, served = _held_bridge(active=1, max_queue_seconds=0.2)

    async def scenario():
        first = asyncio.ensure_future(_call(bridge, _http("/first")))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        refused = await _call(bridge, _http("/second"))
        waited = time.monotonic() - started
        release.set()
        return await first, refused, waited

    first, refused, waited = asyncio.run(scenario())
    assert first[0]["status"] == 200
    assert refused[0]["status"] == 503 and dict(refused[0]["headers"])[b"retry-after"]
    assert json.loads(refused[1]["body"])["message"].startswith("Service Unavailable:")
    assert waited < 5  # answered at the deadline, not when the busy thread was released
    assert served == ["/first"] and bridge.in_flight == 0


def test_a_request_with_a_free_place_is_never_refused_however_short_the_deadline():
    """Two places, two requests: neither queues, so a zero deadline refuses neither (a thread
    slow to start on a busy machine is not a queue)."""
    bridge, release, _ = _held_bridge(active=2, max_queue_seconds=0.0)

    async def scenario():
        calls = [asyncio.ensure_future(_call(bridge, _http())) for _ in range(2)]
        await asyncio.sleep(0.3)
        release.set()
        return await asyncio.gather(*calls)

    assert [sent[0]["status"] for sent in asyncio.run(scenario())] == [200, 200]


def test_a_request_that_steps_aside_frees_its_place_for_the_next():
    """A wait calls ``environ[STEP_ASIDE]()`` before it sleeps: with one active place, a request
    arriving during the wait is served, not queued into a 503."""
    from airflow_webhook_trigger.http.bridge import STEP_ASIDE

    release = threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/wait":
            environ[STEP_ASIDE]()
            environ[STEP_ASIDE]()  # idempotent: a second call frees nothing more
            release.wait(10)
        start_response("200 OK", [])
        return [environ["PATH_INFO"].encode()]

    bridge = BufferedWSGIBridge(app, workers=4, body_limit=lambda scope: 10, active=1,
                                max_queue_seconds=lambda: 0.2, refused=refuse_queued)

    async def scenario():
        waiting = asyncio.ensure_future(_call(bridge, _http("/wait")))
        await asyncio.sleep(0.1)
        served = await _call(bridge, _http("/run"))
        still_one = bridge._slots._value
        release.set()
        return await waiting, served, still_one

    waited, served, value = asyncio.run(scenario())
    assert served[0]["status"] == 200 and served[1]["body"] == b"/run"
    assert waited[0]["status"] == 200 and value == 1  # the wait's place was given back once only
    assert bridge._slots._value == 1


CALLED: list[str] = []


def record_shutdown() -> None:
    CALLED.append("shutdown")


def test_the_fastapi_mount_runs_the_shutdown_hook_in_its_lifespan_and_passes_requests_through():
    """Airflow's api-server enters ``route.app.router.lifespan_context`` of FastAPI mounts only;
    requests must reach the wrapped app untouched."""
    pytest.importorskip("fastapi", reason="Airflow 2 has no FastAPI (nor this mount)")
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

"""Graceful under overload: a request the worker cannot serve soon is answered 503 at once.

Why: a sender that pushes more than the api-server can take otherwise waits in a queue that
grows until its client times out (GitHub gives up after 10 s), and then cannot tell whether
its delivery became a run. A 503 with ``Retry-After`` is an answer it can act on, and with a
delivery id its retry is deduplicated. Three bounds per api-server worker:

- ``max_pending_requests``: requests admitted (being served or queued); past it, a new request
  is refused before its body is read;
- ``max_active_requests``: requests served at once (``bridge.BufferedWSGIBridge``; a wait steps
  aside while it sleeps); the others queue on the event loop. Without it a burst started every
  request it admitted, and run creations waiting on each other made answers take seconds;
- ``max_queue_seconds``: a request that queued that long for one of those places is answered
  503 at once from the event loop and never runs, so an admitted request starts within a bounded
  time or gets its 503 then. Only a request that found every place taken can time out: a free
  thread slow to start (the GIL, a stalled VM) is not a queue, and refusing those cost genuine
  deliveries their run.

Both answer the same 503 body; nothing is created for a refused request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from airflow_webhook_trigger import config
from airflow_webhook_trigger.airflow import metrics

__all__ = ["AdmissionControl", "overloaded_answer", "refuse_queued"]

_MESSAGE = json.dumps({"message": "Service Unavailable: the webhook receiver is overloaded; retry later"}).encode()


def overloaded_answer() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The 503: status, ASGI headers, body."""
    headers = [(b"content-type", b"application/json"), (b"retry-after", config.get("retry_after").encode()),
               (b"content-length", str(len(_MESSAGE)).encode())]
    return 503, headers, _MESSAGE


def refuse_queued() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The 503 for a request that waited ``max_queue_seconds`` in the bridge's queue, counted."""
    _count("queue")
    return overloaded_answer()


def _count(reason: str) -> None:
    try:
        if metrics.metrics_enabled():
            metrics.stats().incr("webhook_trigger.overloaded", tags={"reason": reason})
    except Exception:  # noqa: BLE001 - a broken metrics backend must not fail the answer
        pass


class AdmissionControl:
    """ASGI: at most ``max_pending_requests`` requests in this worker; the next one gets 503.

    Counted on the worker's event loop, so a plain integer needs no lock.
    """

    def __init__(self, app: Any, *, limit: Callable[[], int] | None = None) -> None:
        self.app = app
        self.limit = limit or (lambda: config.get_int("max_pending_requests"))
        self.pending = 0
        self.refused = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.pending >= self.limit():
            self.refused += 1
            _count("pending")
            status, headers, body = overloaded_answer()
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        self.pending += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.pending -= 1

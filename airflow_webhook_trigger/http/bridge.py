"""ASGI -> WSGI for small, whole requests and answers: one hand-over to a thread per request.

Why not ``a2wsgi.WSGIMiddleware`` (which this replaces for the webhook app): it hands every
step of a request across threads. Reading the body, starting the response, each body chunk and
the closing message are each a round trip from the WSGI thread to the event loop and back
(``run_coroutine_threadsafe(...).result()``), i.e. 3 to 4 wake-ups of two threads per request.
Profiled on the api-server (docs/performance.md), those hand-overs cost more CPU than the
webhook's own work on the 404 and 204 paths. Webhook requests and answers are small and never
streamed, so this bridge reads the body on the event loop (capped at ``max_body_size`` + 1
byte, so a larger body still gets the blueprint's 413), runs the Flask app once in a thread
pool, and sends the buffered answer from the event loop: one hand-over. A body the client cut
off (it disconnected before Content-Length bytes or the last chunk) is never handed to the app;
while the app runs, a disconnect sets the environ's ``webhook.disconnected`` Event.

The WSGI environ is built by a2wsgi's own ``build_environ``, so the Flask app sees exactly what
it saw behind a2wsgi (including ``asgi.scope``, which the blueprint reads for repeated headers).
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import build_environ

from airflow_webhook_trigger.http.admission import ENQUEUED_AT

__all__ = ["BufferedWSGIBridge", "DISCONNECTED", "WATCH_AFTER_SECONDS"]

# The environ key of a ``threading.Event`` set when the client disconnects while the app runs,
# so a long wait (``wait: true``) stops for nobody (``dispatch`` passes it down as a plain Event).
DISCONNECTED = "webhook.disconnected"
# A request still running after this long starts watching for its client's disconnect.
WATCH_AFTER_SECONDS = 0.2

log = logging.getLogger(__name__)

_INTERNAL_ERROR = json.dumps(
    {"message": "Internal Server Error: the webhook failed unexpectedly; see the api-server log"}
).encode()


class BufferedWSGIBridge:
    """Serve a WSGI app to ASGI with the body read first and the answer sent whole."""

    def __init__(self, app: Callable, *, workers: int, body_limit: Callable[[dict], int]) -> None:
        self.app = app
        self.body_limit = body_limit  # per request (given the scope): options and DAGs change at run time
        self.workers = workers
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
        # Requests handed to the pool and not yet answered. Counted on the event loop only (no lock):
        # a request handed over while every thread is busy waits in the pool's queue.
        self.in_flight = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        if scope["type"] != "http":
            return
        body = await self._read_body(receive, self.body_limit(scope))
        if body is None:  # the client went away before its body ended: nothing to answer, nothing done
            return
        environ = build_environ(scope, io.BytesIO(body))
        if self.in_flight >= self.workers:
            # Only a request that really queues behind busy threads starts QueueDeadline's clock
            # (admission.py). A free thread that is merely slow to get the GIL on a busy machine is
            # not a queue: counting it refused genuine deliveries at 16 clients on 2 workers.
            environ[ENQUEUED_AT] = time.monotonic()
        disconnected = environ[DISCONNECTED] = threading.Event()
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        # Watching for a disconnect matters to long requests only (``wait: true``): a task per
        # request would cost every short one, so the watch starts once the app has run a while.
        watchers: list[asyncio.Future] = []
        timer = loop.call_later(WATCH_AFTER_SECONDS, lambda: watchers.append(
            asyncio.ensure_future(_watch_disconnect(receive, disconnected))))
        self.in_flight += 1
        try:
            status, headers, payload = await loop.run_in_executor(self.executor, context.run, self._call, environ)
        finally:
            self.in_flight -= 1
            timer.cancel()
            for watcher in watchers:
                watcher.cancel()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    @staticmethod
    async def _read_body(receive, limit: int) -> bytes | None:
        """The whole body, or its first ``limit + 1`` bytes when it is larger (the app answers 413);
        None when the client disconnected before the body ended (fewer bytes than its
        Content-Length, a chunked body without its last chunk): a cut-off body is never dispatched."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            if chunk:
                chunks.append(chunk)
                size += len(chunk)
            if not message.get("more_body", False) or size > limit:
                break
        return b"".join(chunks)

    def _call(self, environ: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Run the WSGI app in this worker thread and return its whole answer."""
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            started[:] = [status, headers]
            return lambda data: chunks.append(data)  # the legacy write() callable

        chunks: list[bytes] = []
        try:
            iterable = self.app(environ, start_response)
            try:
                for chunk in iterable:
                    chunks.append(chunk)
            finally:
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()
            status, headers = started
        except Exception:  # a WSGI-level failure: still a JSON answer, never a hung request
            log.exception("Webhook app failed")
            return 500, [(b"content-type", b"application/json")], _INTERNAL_ERROR
        code = int(status.split(" ", 1)[0])
        encoded = [(name.strip().lower().encode("latin-1"), value.strip().encode("latin-1")) for name, value in headers]
        return code, encoded, b"".join(chunks)


async def _watch_disconnect(receive, disconnected: threading.Event) -> None:
    """Set ``disconnected`` when the server reports the client gone (cancelled once answered).

    After the whole body, the next ``receive()`` of an HTTP/1.1 server (uvicorn) returns only
    when the client disconnects, so watching costs one pending task per request and no polling.
    A server that answered ``receive()`` at once forever is not watched past a few messages.
    """
    try:
        for _ in range(100):
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected.set()
                return
    except Exception:  # noqa: BLE001 - watching is best effort; the answer must not depend on it
        return

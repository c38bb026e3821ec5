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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import build_environ


__all__ = ["BufferedWSGIBridge", "DISCONNECTED", "STEP_ASIDE", "WATCH_AFTER_SECONDS"]

# The environ key of a ``threading.Event`` set when the client disconnects while the app runs,
# so a long wait (``wait: true``) stops for nobody (``dispatch`` passes it down as a plain Event).
DISCONNECTED = "webhook.disconnected"
# The environ key of a callable that takes a request out of the ``active`` count (a wait calls it
# before it sleeps): thread-safe, idempotent.
STEP_ASIDE = "webhook.step_aside"
# A request still running after this long starts watching for its client's disconnect.
WATCH_AFTER_SECONDS = 0.2

log = logging.getLogger(__name__)

_INTERNAL_ERROR = json.dumps(
    {"message": "Internal Server Error: the webhook failed unexpectedly; see the api-server log"}
).encode()


class BufferedWSGIBridge:
    """Serve a WSGI app to ASGI with the body read first and the answer sent whole."""

    def __init__(self, app: Callable, *, workers: int, body_limit: Callable[[dict], int],
                 active: int | None = None, max_queue_seconds: Callable[[], float] | None = None,
                 refused: Callable[[], tuple[int, list[tuple[bytes, bytes]], bytes]] | None = None) -> None:
        """``active``: at most that many requests run the app at once (a request that steps aside,
        ``environ[STEP_ASIDE]()``, such as a wait, stops counting); the next waits on the event
        loop for ``max_queue_seconds()`` and is then answered ``refused()``, never run
        (``admission.py`` says why). None: as many as there are threads."""
        self.app = app
        self.body_limit = body_limit  # per request (given the scope): options and DAGs change at run time
        self.max_queue_seconds = max_queue_seconds
        self.refused = refused
        self.active = active
        self._slots: asyncio.Semaphore | None = None  # made on the event loop, by the first request
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
        self.in_flight = 0  # handed to the pool, not yet answered (counted on the event loop: no lock)

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
        disconnected = environ[DISCONNECTED] = threading.Event()
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        slot = await self._take_slot(loop)
        if slot is None:  # every place taken for max_queue_seconds: refused before anything ran
            status, headers, payload = self.refused()
        else:
            environ[STEP_ASIDE] = slot.release
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
                slot.release()
                timer.cancel()
                for watcher in watchers:
                    watcher.cancel()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _take_slot(self, loop: asyncio.AbstractEventLoop) -> _Slot | None:
        """A place among the ``active`` requests, waiting up to ``max_queue_seconds``; None: none
        came free in time."""
        if self.active is None or self.max_queue_seconds is None or self.refused is None:
            return _Slot(None, loop)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.active)
        if self._slots.locked():
            try:
                await asyncio.wait_for(self._slots.acquire(), timeout=self.max_queue_seconds())
            except asyncio.TimeoutError:
                return None
        else:
            await self._slots.acquire()
        return _Slot(self._slots, loop)

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


class _Slot:
    """One active request's place: released once, from the event loop or from the app's thread
    (a wait steps aside while it sleeps, so waits never hold the places of runs being created)."""

    def __init__(self, semaphore: asyncio.Semaphore | None, loop: asyncio.AbstractEventLoop) -> None:
        self._semaphore = semaphore
        self._loop = loop
        self._loop_thread = threading.get_ident()  # made on the event loop's thread
        self._lock = threading.Lock()
        self._released = semaphore is None

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        if threading.get_ident() == self._loop_thread:
            self._semaphore.release()
        else:
            self._loop.call_soon_threadsafe(self._semaphore.release)


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

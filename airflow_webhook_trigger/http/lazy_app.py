"""An ASGI app that is built on its first request.

Why lazy: the plugin module is imported by every Airflow process (scheduler, workers, DAG
processor), and only the api-server ever serves a request. The app is named by its import path,
so the web stack (Flask, the bridge, FastAPI for the page) is loaded by the first request only.
"""

from __future__ import annotations

import importlib
import sys
import threading
from typing import Any

__all__ = ["LazyASGIApp", "lazy_app"]


class LazyASGIApp:
    """Builds the app ``"package.module:factory"`` names, once, on the first request."""

    def __init__(self, factory: str) -> None:
        self._factory = factory
        self._app: Any = None
        self._lock = threading.Lock()

    def _build(self) -> Any:
        with self._lock:
            if self._app is None:
                module, _, name = self._factory.partition(":")
                self._app = getattr(importlib.import_module(module), name)()
        return self._app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":  # a mounted app gets no lifespan; answer one if asked
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            return
        app = self._app or self._build()
        await app(scope, receive, send)


def lazy_app(factory: str, *, on_shutdown: str | None = None) -> Any:
    """The app to mount: a ``LazyASGIApp``, or, where FastAPI is already loaded (the api-server)
    and something must run at shutdown, a ``LazyFastAPIMount`` that receives the api-server's
    lifespan (``http/fastapi_mount.py`` says why). Other Airflow processes never load FastAPI
    for this: they never serve, and importing it would slow every one of them
    (docs/performance.md, "HTTP layer")."""
    if on_shutdown is None or "fastapi" not in sys.modules:
        return LazyASGIApp(factory)
    from airflow_webhook_trigger.http.fastapi_mount import LazyFastAPIMount  # imports FastAPI: api-server only

    return LazyFastAPIMount(LazyASGIApp(factory), on_shutdown)

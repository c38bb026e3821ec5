"""An ASGI app that is built on its first request.

Why lazy: the plugin module is imported by every Airflow process (scheduler, workers, DAG
processor), and only the api-server ever serves a request. The app is named by its import path,
so the web stack (Flask, the bridge, FastAPI for the page) is loaded by the first request only.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

__all__ = ["LazyASGIApp"]


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

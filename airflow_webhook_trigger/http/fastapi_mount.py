"""A lazily built app that Airflow's api-server treats as a FastAPI mount, to get its shutdown.

Why: Airflow 3's api-server runs the lifespan (startup and shutdown) of a mounted app only when
that app is a ``FastAPI`` instance (``airflow.api_fastapi.app.lifespan``), and uvicorn ends a
worker stopped by SIGTERM by raising the signal again once it has shut down, so the worker's
``atexit`` handlers never run. The lifespan's shutdown is the last moment a worker can write what
it still holds (the audit rows buffered by ``audit.py``). Requests skip FastAPI entirely: they go
to the ``LazyASGIApp`` as before; only the lifespan goes through FastAPI's router.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI

__all__ = ["LazyFastAPIMount"]

log = logging.getLogger(__name__)


def _resolve(path: str) -> Callable[[], object]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class LazyFastAPIMount(FastAPI):
    """``app`` (a ``LazyASGIApp``) for requests; ``on_shutdown`` (``"module:function"``, run in a
    thread: it may write to the database) when the api-server worker shuts down."""

    def __init__(self, app: Any, on_shutdown: str) -> None:
        self._lazy = app
        self._on_shutdown = on_shutdown
        super().__init__(lifespan=self._lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        yield
        try:
            await asyncio.to_thread(_resolve(self._on_shutdown))
        except Exception:  # noqa: BLE001 - a failed last write must not fail the server's shutdown
            log.exception("Webhook trigger: shutdown hook %s failed", self._on_shutdown)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await super().__call__(scope, receive, send)
            return
        await self._lazy(scope, receive, send)

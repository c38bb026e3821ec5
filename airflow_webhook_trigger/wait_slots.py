"""How many ``wait: true`` requests may wait at once in one api-server worker.

A waiting request holds one of the worker's ``wsgi_threads`` for up to its timeout; were every
thread waiting, no other webhook of that worker would be answered. So at most
``[webhook_trigger] max_concurrent_waits`` requests wait at once (default 16 of 64 threads), and
``dispatch`` answers the next one 503 + Retry-After *before* creating its run.
"""

from __future__ import annotations

import os
import threading

from airflow_webhook_trigger import config

__all__ = ["WaitSlots", "WAIT_SLOTS"]


class WaitSlots:
    """A counter of waits in progress, capped by ``max_concurrent_waits`` (read per request)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.taken = 0

    def acquire(self) -> bool:
        """Take a slot; False when all are taken."""
        limit = config.get_int("max_concurrent_waits")
        with self._lock:
            if self.taken >= limit:
                return False
            self.taken += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.taken = max(0, self.taken - 1)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self.taken = 0


WAIT_SLOTS = WaitSlots()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=WAIT_SLOTS._reset)

"""Warnings that a stranger can repeat at will, logged at most once per subject per minute.

A key or a signature secret that fails to render (a Variable deleted, a backend down) fails on
every request to that DAG; one warning per request would let anyone who knows the DAG's URL
fill the api-server's log. The first failure of each minute is logged, with how many were not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable

__all__ = ["LogOnce", "WARN_ONCE"]

WINDOW_SECONDS = 60.0
MAX_SUBJECTS = 4096  # bounded: subjects are (DAG, trigger) pairs, but never trust that


class LogOnce:
    """``warn(logger, subject, msg, *args)`` logs when ``subject`` has not logged this window."""

    def __init__(self, window: float = WINDOW_SECONDS, max_subjects: int = MAX_SUBJECTS) -> None:
        self.window = window
        self.max_subjects = max_subjects
        self._last: dict[Hashable, tuple[float, int]] = {}  # subject -> (logged at, suppressed since)
        self._lock = threading.Lock()

    def warn(self, logger: logging.Logger, subject: Hashable, msg: str, *args: object) -> bool:
        now = time.monotonic()
        with self._lock:
            logged_at, suppressed = self._last.get(subject, (None, 0))
            if logged_at is not None and now - logged_at < self.window:
                self._last[subject] = (logged_at, suppressed + 1)
                return False
            if len(self._last) >= self.max_subjects and subject not in self._last:
                self._last.pop(next(iter(self._last)))  # the oldest subject goes
            self._last.pop(subject, None)
            self._last[subject] = (now, 0)
        if suppressed:
            msg += " (%d more like it not logged in the last minute)"
            args = (*args, suppressed)
        logger.warning(msg, *args)
        return True


WARN_ONCE = LogOnce()

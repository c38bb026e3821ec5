"""Per-trigger rate limits (``rateLimit: "100/minute"``), using the ``limits`` library.

Why ``limits``: it is the engine behind Flask-Limiter and SlowAPI, parses the familiar
``"N/second|minute|hour|day"`` notation, and implements a moving window correctly. The counters
live in each api-server worker's memory: with W workers the effective limit is up to W times
the declared one, which is stated in the README. A limited request is refused before anything
is written and answered 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from typing import Any

from limits import RateLimitItem, parse, storage, strategies

__all__ = ["parse_rate_limit", "hit"]

_LIMITER = strategies.MovingWindowRateLimiter(storage.MemoryStorage())


def parse_rate_limit(value: Any) -> RateLimitItem:
    """``"100/minute"``, ``"5 per second"``; raise ValueError with the accepted forms."""
    if not isinstance(value, str):
        raise ValueError('must be a string such as "100/minute" or "5/second"')
    try:
        return parse(value)
    except ValueError:
        raise ValueError(f'{value!r} is not a rate: use a form such as "100/minute" or "5/second"') from None


def hit(item: RateLimitItem, identity: tuple[str, ...]) -> int | None:
    """Count one request; return None if allowed, else the seconds to wait (for Retry-After)."""
    if _LIMITER.hit(item, *identity):
        return None
    reset = _LIMITER.get_window_stats(item, *identity).reset_time
    return max(1, math.ceil(reset - time.time()))

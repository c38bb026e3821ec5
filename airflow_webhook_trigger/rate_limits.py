"""Per-trigger rate limits (``rateLimit: "100/minute"``), using the ``limits`` library.

Why ``limits``: it is the engine behind Flask-Limiter and SlowAPI, parses the familiar
``"N/second|minute|hour|day"`` notation, implements a moving window correctly, and keeps its
counters in any of several storages named by a URI: ``[webhook_trigger] rate_limit_storage``
(memcached has no moving window: there the sliding window counter, a close estimate, is used).

- ``memory://`` (the default): the counters live in each api-server worker's memory, so with W
  workers (times R replicas) the effective limit is up to W x R times the declared one.
- ``redis://host:6379/0``, ``rediss://...``, ``redis+sentinel://host:26379/service``,
  ``redis+cluster://...``, ``memcached://host:11211``: one count shared by every worker of every
  replica (the moving window is one atomic script on Redis). Redis needs the ``redis`` package
  (``pip install airflow-webhook-trigger[redis]``), memcached ``pymemcache``.

The storage and its limiter are built once per process and storage URI, lazily on the first
limited request: an api-server worker is a fork (or a spawn) of its parent, and neither a
connection pool nor the memory storage's lock and expiry thread may be shared across a fork. A
changed ``rate_limit_storage`` builds a new one.

A limited request is refused before anything is written and answered 429 with ``Retry-After``.
When the storage cannot answer (Redis down, unreachable within ``rate_limit_storage_timeout``,
a URI that does not build), the delivery is **accepted** without its limit (fail open: a rate
limit protects Airflow, it must not lose deliveries), each such delivery is counted in the
metric ``webhook_trigger.rate_limit_unavailable``, the storage is not asked again for
``RETRY_SECONDS`` (so an unreachable host costs one timeout, not one per request), and a
warning is logged at most once every ``LOG_EVERY_SECONDS``.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from limits import RateLimitItem, parse, strategies
from limits.storage import MovingWindowSupport, SlidingWindowCounterSupport, Storage, storage_from_string

from airflow_webhook_trigger import config
from airflow_webhook_trigger.airflow import metrics

__all__ = ["parse_rate_limit", "hit", "reset", "DEFAULT_STORAGE", "RETRY_SECONDS", "LOG_EVERY_SECONDS"]

log = logging.getLogger(__name__)

DEFAULT_STORAGE = "memory://"
RETRY_SECONDS = 1.0  # after a failure, deliveries are accepted without asking the storage for this long
LOG_EVERY_SECONDS = 60.0
METRIC_UNAVAILABLE = "webhook_trigger.rate_limit_unavailable"
KEY_SCOPE = "webhook_trigger"  # first part of every counter's key: a shared Redis may serve others too

_clock = time.monotonic  # replaced by the unit tests


@dataclass(frozen=True)
class _Built:
    uri: str
    pid: int
    limiter: strategies.RateLimiter | None  # None: the URI did not build


_lock = threading.Lock()
_built: _Built | None = None
_down_until = 0.0  # monotonic time until which the storage is not asked (after a failure)
_last_logged: float | None = None
_unlogged = 0  # deliveries accepted without their limit since the last warning
_last_error = ""


def _after_fork() -> None:
    """In a forked child: a fresh lock (the parent's may have been held), nothing built, and
    warnings of its own (a new worker logs its first failure even if its parent just did)."""
    global _lock, _built, _down_until, _last_logged, _unlogged
    _lock = threading.Lock()
    _built, _down_until, _last_logged, _unlogged = None, 0.0, None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def parse_rate_limit(value: Any) -> RateLimitItem:
    """``"100/minute"``, ``"5 per second"``; raise ValueError with the accepted forms."""
    if not isinstance(value, str):
        raise ValueError('must be a string such as "100/minute" or "5/second"')
    try:
        return parse(value)
    except ValueError:
        raise ValueError(f'{value!r} is not a rate: use a form such as "100/minute" or "5/second"') from None


def hit(item: RateLimitItem, identity: tuple[str, ...]) -> int | None:
    """Count one request; return None if allowed, else the seconds to wait (for Retry-After).

    Also None (allowed) when the storage cannot answer: see the module's docstring.
    """
    limiter = _limiter()
    if limiter is None:
        return None
    keys = (KEY_SCOPE, *identity)
    try:
        if limiter.hit(item, *keys):
            return None
    except Exception as exc:  # noqa: BLE001 - any storage failure: fail open
        _unavailable(exc)
        return None
    try:
        reset_time = limiter.get_window_stats(item, *keys).reset_time
    except Exception:  # noqa: BLE001 - refused already; the window's length is a safe wait
        return max(1, int(item.get_expiry()))
    return max(1, math.ceil(reset_time - time.time()))


def reset() -> None:
    """Forget the built storage and any failure state (tests; a changed URI does this by itself)."""
    global _built, _down_until, _last_logged, _unlogged, _last_error
    with _lock:
        _built, _down_until, _last_logged, _unlogged, _last_error = None, 0.0, None, 0, ""


def _limiter() -> strategies.RateLimiter | None:
    """This process's limiter for the configured storage, built on first use; None: fail open."""
    uri = config.get("rate_limit_storage").strip() or DEFAULT_STORAGE
    built = _built
    if built is None or built.uri != uri or built.pid != os.getpid():
        built = _build(uri)
    elif built.limiter is None and _clock() >= _down_until:
        built = _build(uri, again=True)  # a URI that did not build (e.g. its sentinel was down): try again
    if built.limiter is None:
        _unavailable(None)  # counted; the build's failure was recorded by _build
        return None
    if _down_until and _clock() < _down_until:
        _unavailable(None)  # failed a moment ago: not asked again yet
        return None
    return built.limiter


def _build(uri: str, *, again: bool = False) -> _Built:
    global _built, _down_until, _last_error
    with _lock:
        current = _built
        if not again and current is not None and current.uri == uri and current.pid == os.getpid():
            return current  # another thread built it meanwhile
        try:
            storage = storage_from_string(uri, **_storage_options(uri))
            if not isinstance(storage, Storage):  # e.g. "async+redis://": its calls would return coroutines
                raise ValueError("an async storage cannot be used here: drop the 'async+' prefix")
            built = _Built(uri, os.getpid(), limiter_for(storage))
            _down_until = 0.0
        except Exception as exc:  # noqa: BLE001 - unknown scheme, missing package, sentinel down...
            built = _Built(uri, os.getpid(), None)
            _down_until = _clock() + RETRY_SECONDS
            _last_error = f"{type(exc).__name__}: {exc}".replace(uri, _masked(uri))
        _built = built
        return built


def limiter_for(storage: Storage) -> strategies.RateLimiter:
    """The moving window where the storage has it (memory, Redis, MongoDB); else the sliding window
    counter (memcached: a weighted estimate of the moving window); else a fixed window."""
    if isinstance(storage, MovingWindowSupport):
        return strategies.MovingWindowRateLimiter(storage)
    if isinstance(storage, SlidingWindowCounterSupport):
        return strategies.SlidingWindowCounterRateLimiter(storage)
    return strategies.FixedWindowRateLimiter(storage)


_REDIS_SCHEMES = {"redis", "rediss", "redis+unix", "valkey", "valkeys", "valkey+unix", "redis+cluster",
                  "valkey+cluster"}


def _storage_options(uri: str) -> dict[str, Any]:
    """Connect and read timeouts, so an unreachable storage costs a bounded wait (not the OS's minutes).

    For ``redis://`` the URI's own query (``?socket_timeout=...``) still wins over these.
    """
    scheme = uri.split("://", 1)[0].lower()
    timeout = config.get_float("rate_limit_storage_timeout")
    if scheme in _REDIS_SCHEMES:
        return {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if scheme in ("redis+sentinel", "valkey+sentinel"):
        sockets = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        return {**sockets, "sentinel_kwargs": dict(sockets)}
    if scheme == "memcached":
        return {"connect_timeout": timeout, "timeout": timeout}
    return {}


def _unavailable(error: BaseException | None) -> None:
    """Count a delivery accepted without its limit (``error``: the storage just failed, so it is
    not asked again for RETRY_SECONDS); log at most once every LOG_EVERY_SECONDS."""
    global _down_until, _last_logged, _unlogged, _last_error
    now = _clock()
    if error is not None:
        _down_until = now + RETRY_SECONDS
        _last_error = f"{type(error).__name__}: {error}"
    try:
        metrics.stats().incr(METRIC_UNAVAILABLE)
    except Exception:  # noqa: BLE001 - metrics are best effort
        pass
    with _lock:
        _unlogged += 1
        if _last_logged is not None and now - _last_logged < LOG_EVERY_SECONDS:
            return
        count, _unlogged, _last_logged = _unlogged, 0, now
        uri = _built.uri if _built is not None else "?"
    log.warning(
        "Rate-limit storage %s is unavailable (%s): %d deliver%s accepted without checking their "
        "rateLimit since the last such message (metric %s); the next message in %.0f s at the earliest",
        _masked(uri), _last_error or "unknown error", count, "y" if count == 1 else "ies",
        METRIC_UNAVAILABLE, LOG_EVERY_SECONDS,
    )


def _masked(uri: str) -> str:
    """The URI without a password (``redis://:secret@host`` -> ``redis://:***@host``)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparsable URI>"
    if parts.password:
        return uri.replace(f":{parts.password}@", ":***@", 1)
    return re.sub(r"password=[^&]*", "password=***", uri)

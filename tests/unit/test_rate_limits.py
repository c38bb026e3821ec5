"""Rate limits shared through a storage (``[webhook_trigger] rate_limit_storage``), with a real Redis.

Each test that needs Redis gets a ``redis-server`` of its own module on a free port
(``tools/redis_server.py``); they skip, saying so, only when ``redis-server`` is not installed.
Proven here: the default ``memory://`` counts per process (a forked worker starts afresh);
``redis://`` shares one count between separate processes (one after the other, and racing);
a changed URI builds a new storage; when the storage is down or the URI does not build, the
delivery is accepted, counted in ``webhook_trigger.rate_limit_unavailable`` and logged at most
once a minute (a fake clock, no sleeping); once Redis is back, counting resumes.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from airflow_webhook_trigger import rate_limits
from airflow_webhook_trigger.airflow import metrics
from airflow_webhook_trigger.rate_limits import hit, parse_rate_limit
from tools import redis_server

REPO = Path(__file__).resolve().parents[2]
ENV = "AIRFLOW__WEBHOOK_TRIGGER__RATE_LIMIT_STORAGE"


class FakeStats:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def incr(self, stat: str, *args, **kwargs) -> None:
        self.counts[stat] = self.counts.get(stat, 0) + 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def redis():
    if not redis_server.available():
        pytest.skip(redis_server.SKIP_REASON)
    with redis_server.RedisServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    rate_limits.reset()
    yield
    rate_limits.reset()


@pytest.fixture
def stats(monkeypatch) -> FakeStats:
    fake = FakeStats()
    monkeypatch.setattr(metrics, "stats", lambda: fake)
    return fake


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(rate_limits, "_clock", fake)
    return fake


def identity() -> tuple[str, str]:
    return (f"dag_{uuid.uuid4().hex[:8]}", "webhook")


def hits(item, who, count: int) -> list[int | None]:
    return [hit(item, who) for _ in range(count)]


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == rate_limits.__name__ and r.levelno == logging.WARNING]


# --- memory:// (the default) --------------------------------------------------------------------


def test_memory_is_the_default_and_refuses_past_the_limit():
    item, who = parse_rate_limit("3/minute"), identity()
    answers = hits(item, who, 5)
    assert answers[:3] == [None, None, None]
    assert all(isinstance(a, int) and 1 <= a <= 60 for a in answers[3:]), answers
    assert rate_limits._built.uri == "memory://"


def _first_answer_in_a_fork(item, who) -> bytes:
    """``b"allowed"`` or ``b"refused"``: the first hit as a forked child (an api-server worker) sees it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its own first answer
        try:
            os.write(write, b"allowed" if hit(item, who) is None else b"refused")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 100)
    os.waitpid(pid, 0)
    return answer


def test_memory_counters_are_per_process_a_forked_worker_starts_afresh():
    """An api-server worker is a fork: it must not inherit (nor share a lock with) its parent's storage."""
    item, who = parse_rate_limit("2/minute"), identity()
    assert hits(item, who, 3)[2] is not None  # the parent has used up its 2
    answer = _first_answer_in_a_fork(item, who)
    assert answer == b"allowed"
    assert hit(item, who) is not None  # and the parent still counts its own


def test_a_changed_storage_uri_builds_a_new_storage(monkeypatch, redis):
    item, who = parse_rate_limit("1/minute"), identity()
    assert hit(item, who) is None
    assert hit(item, who) is not None  # memory:// has counted it
    monkeypatch.setenv(ENV, redis.url)
    assert hit(item, who) is None  # Redis has not seen this trigger yet
    assert rate_limits._built.uri == redis.url
    assert hit(item, who) is not None
    monkeypatch.setenv(ENV, "memory://")
    assert hit(item, who) is None  # a new, empty memory storage
    assert rate_limits._built.uri == "memory://"


# --- redis:// shared between processes ------------------------------------------------------------

_CHILD = textwrap.dedent("""
    import sys
    from airflow_webhook_trigger.rate_limits import hit, parse_rate_limit
    item = parse_rate_limit(sys.argv[2])
    hit(parse_rate_limit("1000/minute"), ("warm-up", sys.argv[1]))  # Airflow's config and the storage built
    print("ready", flush=True)
    sys.stdin.readline()  # go
    answers = [hit(item, (sys.argv[1], "webhook")) for _ in range(int(sys.argv[3]))]
    print(sum(a is None for a in answers), flush=True)
""")


def _children(redis, dag_id: str, rate: str, counts: list[int]) -> list[subprocess.Popen]:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, ENV: redis.url, "PYTHONPATH": path}
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, dag_id, rate, str(n)], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in counts]
    for proc in procs:
        line = proc.stdout.readline()
        assert line.strip() == "ready", (line, proc.stderr.read() if proc.poll() is not None else "")
    return procs


def _go(proc: subprocess.Popen) -> int:
    out, err = proc.communicate("go\n", timeout=60)
    assert proc.returncode == 0, err
    return int(out.strip().splitlines()[-1])


def test_redis_counts_are_shared_by_separate_processes_one_after_the_other(redis):
    dag_id = f"shared_{uuid.uuid4().hex[:8]}"
    first, second = _children(redis, dag_id, "10/minute", [6, 6])
    assert _go(first) == 6  # all of the first process's requests fit in 10
    assert _go(second) == 4  # the second gets what is left: 4 of its 6 (memory:// would allow all 6)


def test_redis_counts_are_exact_when_processes_race(redis):
    dag_id = f"race_{uuid.uuid4().hex[:8]}"
    procs = _children(redis, dag_id, "10/minute", [20, 20, 20])
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    allowed = [_go(proc) for proc in procs]
    print(f"\nthree processes racing 20 hits each on 10/minute: allowed {allowed}")
    assert sum(allowed) == 10, allowed


def test_redis_and_a_forked_child_share_the_count(monkeypatch, redis):
    monkeypatch.setenv(ENV, redis.url)
    item, who = parse_rate_limit("2/minute"), identity()
    assert hits(item, who, 2) == [None, None]  # built in the parent, then forked
    answer = _first_answer_in_a_fork(item, who)
    assert answer == b"refused"


def test_redis_storage_gets_connect_and_read_timeouts(monkeypatch, redis):
    monkeypatch.setenv(ENV, redis.url)
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__RATE_LIMIT_STORAGE_TIMEOUT", "0.25")
    assert hit(parse_rate_limit("5/minute"), identity()) is None
    kwargs = rate_limits._built.limiter.storage.storage.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 0.25 and kwargs["socket_connect_timeout"] == 0.25
    assert rate_limits._storage_options("redis+sentinel://h:26379/svc")["sentinel_kwargs"]["socket_timeout"] == 0.25
    assert rate_limits._storage_options("memcached://h:11211") == {"connect_timeout": 0.25, "timeout": 0.25}
    assert rate_limits._storage_options("memory://") == {}


# --- failing open -------------------------------------------------------------------------------


def test_redis_stopped_accepts_counts_logs_once_then_counts_again(monkeypatch, redis, stats, caplog):
    monkeypatch.setenv(ENV, redis.url)
    monkeypatch.setattr(rate_limits, "RETRY_SECONDS", 0.0)  # ask Redis again on every request
    item, who = parse_rate_limit("2/minute"), identity()
    assert hits(item, who, 3)[2] is not None  # counted in Redis: the third is refused
    redis.stop()
    try:
        with caplog.at_level(logging.WARNING, logger=rate_limits.__name__):
            answers = hits(item, who, 5)
        assert answers == [None] * 5  # accepted: a limit must not lose deliveries
        assert stats.counts[rate_limits.METRIC_UNAVAILABLE] == 5
        logged = warnings_of(caplog)
        assert len(logged) == 1, logged
        assert redis.url in logged[0] and "ConnectionError" in logged[0], logged
    finally:
        redis.start()
    # Redis is back (empty: nothing is persisted): counting resumes at once
    assert hits(item, who, 2) == [None, None]
    assert hit(item, who) is not None
    assert stats.counts[rate_limits.METRIC_UNAVAILABLE] == 5


def test_after_a_failure_the_storage_is_left_alone_for_retry_seconds(monkeypatch, stats, clock):
    """An unreachable host costs one timeout, then deliveries pass without asking for RETRY_SECONDS."""
    monkeypatch.setenv(ENV, f"redis://127.0.0.1:{redis_server._free_port()}/0")  # nothing listens there
    item, who = parse_rate_limit("1/minute"), identity()
    asked = []
    limiter_hit = rate_limits.strategies.MovingWindowRateLimiter.hit

    def counting_hit(self, *args, **kwargs):
        asked.append(clock.now)
        return limiter_hit(self, *args, **kwargs)

    monkeypatch.setattr(rate_limits.strategies.MovingWindowRateLimiter, "hit", counting_hit)
    assert hits(item, who, 4) == [None] * 4
    assert asked == [1000.0]  # asked once, failed; then left alone
    clock.now += rate_limits.RETRY_SECONDS
    assert hit(item, who) is None
    assert asked == [1000.0, clock.now]  # asked again after RETRY_SECONDS
    assert stats.counts[rate_limits.METRIC_UNAVAILABLE] == 5


def test_unavailable_is_logged_at_most_once_a_minute(monkeypatch, stats, clock, caplog):
    monkeypatch.setenv(ENV, f"redis://127.0.0.1:{redis_server._free_port()}/0")
    item, who = parse_rate_limit("1/minute"), identity()
    with caplog.at_level(logging.WARNING, logger=rate_limits.__name__):
        for _ in range(7):  # one request every 10 s for a minute: 0 .. 60 s
            assert hit(item, who) is None
            clock.now += 10
        # 1000 .. 1060: logged at 1000 (1 delivery) and at 1060 (the 6 since)
        assert hit(item, who) is None  # 1070: within a minute of the last message
    logged = warnings_of(caplog)
    assert len(logged) == 2, logged
    assert "1 delivery accepted" in logged[0] and "6 deliveries accepted" in logged[1], logged
    assert stats.counts[rate_limits.METRIC_UNAVAILABLE] == 8


@pytest.mark.parametrize("uri", ["nosuch://host:1", "async+memory://", "redis+nosuch://:hunter2@host:6379"])
def test_a_storage_uri_that_does_not_build_fails_open(monkeypatch, stats, caplog, uri):
    monkeypatch.setenv(ENV, uri)
    with caplog.at_level(logging.WARNING, logger=rate_limits.__name__):
        assert hits(parse_rate_limit("1/minute"), identity(), 3) == [None] * 3
    logged = warnings_of(caplog)
    assert len(logged) == 1 and "is unavailable" in logged[0], logged
    assert "hunter2" not in caplog.text
    assert stats.counts[rate_limits.METRIC_UNAVAILABLE] == 3


def test_the_strategy_follows_what_the_storage_supports():
    """Moving window on memory and Redis; memcached has none: the sliding window counter there."""
    from limits import strategies
    from limits.storage import MemcachedStorage, MemoryStorage, RedisStorage

    class Memcached(MemcachedStorage):  # no pymemcache needed: nothing is connected
        def __init__(self) -> None:
            pass

    assert isinstance(rate_limits.limiter_for(MemoryStorage()), strategies.MovingWindowRateLimiter)
    assert isinstance(rate_limits.limiter_for(RedisStorage("redis://127.0.0.1:1/0")), strategies.MovingWindowRateLimiter)
    assert isinstance(rate_limits.limiter_for(Memcached()), strategies.SlidingWindowCounterRateLimiter)

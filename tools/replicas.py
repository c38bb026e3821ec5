"""Several api-server replicas on one database, and a sender that fails over between them.

``ReplicatedStack`` is an ``AirflowStack`` whose database (PostgreSQL) is migrated and whose
DAGs are serialized once, then served by ``replicas`` separate ``airflow api-server`` processes,
each on its own port, sharing the AIRFLOW_HOME (its airflow.cfg, JWT secret, DAG folder) and the
database: what separate machines behind one ingress share in production. Replica 0 is the
stack's own api-server (``stack.url``, its REST API); ``kill_replica(i)`` SIGKILLs one replica
(its whole process group: a crash, nothing flushed), ``start_replica(i)`` brings it back.

``send_spread`` sends deliveries to the replicas, each delivery first to replica ``i % n``
(a delivery and the redelivery right after it land on different replicas), with ``concurrency``
in flight. What gets no answer at all (connection refused or reset, the server gone mid-request,
or one of ``retry_statuses`` such as an ingress's 502) is sent again to the next replica (to the
same address when there is one), as a retrying sender would; every attempt is recorded.
``on_answer(attempt, attempts, in_flight)`` is called after each attempt, with the requests
still waiting for an answer per target (to kill a replica mid-burst, say).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tools.loadgen import Delivery
from tools.stack import AirflowStack, free_port

__all__ = ["ReplicatedStack", "Attempt", "send_spread", "latest_answers"]


class ReplicatedStack(AirflowStack):
    def __init__(self, dag_folders: Iterable[Path | str], *, replicas: int = 2, database_url: str,
                 workers: int = 1, env: dict[str, str] | None = None, progress: bool = False) -> None:
        if not database_url or database_url.startswith("sqlite"):
            raise ValueError("replicas share one database: give a PostgreSQL URL (SQLite is one file per machine)")
        super().__init__(dag_folders, database_url=database_url, workers=workers, env=env, progress=progress)
        self.ports = [self.port] + [free_port() for _ in range(replicas - 1)]

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    @staticmethod
    def name(index: int) -> str:
        return "api-server" if index == 0 else f"api-server-{index}"

    def start(self, *, scheduler: bool = False) -> ReplicatedStack:
        self.migrate().reserialize()
        for index in range(len(self.ports)):  # all starting at once: ~20 s, not 20 s each
            self.start_replica(index, wait=False)
        for index in range(len(self.ports)):
            self.wait_replica(index)
        if scheduler:
            self.start_scheduler()
        return self

    def start_replica(self, index: int, *, wait: bool = True, timeout: float = 120) -> ReplicatedStack:
        self._say(f"airflow api-server replica {index} on {self.urls[index]} ...")
        args = ["api-server", "--port", str(self.ports[index]), "--host", "127.0.0.1"]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        self._spawn(self.name(index), *args)
        if wait:
            self.wait_replica(index, timeout)
        return self

    def wait_replica(self, index: int, timeout: float = 120) -> None:
        name, deadline = self.name(index), time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.processes[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)[-4000:]}")
            try:
                with urllib.request.urlopen(f"{self.urls[index]}/api/v2/monitor/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{name} not healthy after {timeout}s:\n{self.log(name)[-4000:]}")

    def kill_replica(self, index: int) -> None:
        """SIGKILL the replica's whole process group (the api-server and its workers): a crash."""
        proc = self.processes[self.name(index)]
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def alive(self, index: int) -> bool:
        proc = self.processes.get(self.name(index))
        return proc is not None and proc.poll() is None


@dataclass(frozen=True)
class Attempt:
    """One request of one delivery to one replica: ``status`` None when no answer came (``error``)."""

    delivery: Delivery
    target: str
    status: int | None
    body: Any
    error: str | None
    retry_after: str | None = None
    upstream: str | None = None  # the X-Upstream header of an answer through tools/nginx_balancer.py


def latest_answers(attempts: list[Attempt]) -> dict[str, Attempt]:
    """Per delivery id, its last attempt (the answer the sender kept)."""
    return {attempt.delivery.delivery_id: attempt for attempt in attempts}


async def _send_spread(targets: list[str], deliveries: list[Delivery], concurrency: int, rounds: int,
                       retry_statuses: frozenset[int],
                       on_answer: Callable[[Attempt, list[Attempt], Counter], None] | None) -> list[Attempt]:
    gate = asyncio.Semaphore(concurrency)
    in_flight: Counter = Counter()  # target -> requests sent and not yet answered
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    attempts: list[Attempt] = []
    clients = {url: httpx.AsyncClient(base_url=url, timeout=60, limits=limits) for url in targets}
    try:
        async def one(index: int, delivery: Delivery) -> None:
            async with gate:
                for n in range(rounds * len(targets)):
                    target = targets[(index + n) % len(targets)]
                    in_flight[target] += 1
                    try:
                        response = await clients[target].post(delivery.path, content=delivery.body,
                                                              headers=delivery.headers)
                    except httpx.TransportError as exc:  # refused, reset, closed mid-answer: not answered
                        attempt = Attempt(delivery, target, None, None, f"{type(exc).__name__}: {exc}")
                    else:
                        try:
                            body = response.json()
                        except ValueError:
                            body = response.text
                        attempt = Attempt(delivery, target, response.status_code, body, None,
                                          response.headers.get("retry-after"), response.headers.get("x-upstream"))
                    in_flight[target] -= 1
                    attempts.append(attempt)
                    if on_answer is not None:
                        on_answer(attempt, attempts, in_flight)
                    if attempt.status is not None and attempt.status not in retry_statuses:
                        return
                    if (n + 1) % len(targets) == 0:
                        await asyncio.sleep(0.5)  # every replica failed this round: a pause, then again

        await asyncio.gather(*(one(i, d) for i, d in enumerate(deliveries)))
    finally:
        for client in clients.values():
            await client.aclose()
    return attempts


def send_spread(targets: list[str], deliveries: list[Delivery], *, concurrency: int, rounds: int = 3,
                retry_statuses: Iterable[int] = (),
                on_answer: Callable[[Attempt, list[Attempt], Counter], None] | None = None,
                timeout: float = 300) -> list[Attempt]:
    """Send each delivery first to ``targets[i % n]``, then to the others while none answers.

    ``retry_statuses``: answers that also mean "the replica did not answer", e.g. an ingress's
    502/504 (its upstream died or timed out): sent again like a connection error.
    """

    async def bounded() -> list[Attempt]:
        return await asyncio.wait_for(
            _send_spread(targets, deliveries, concurrency, rounds, frozenset(retry_statuses), on_answer), timeout)

    return asyncio.run(bounded())

"""A small asyncio load generator for the webhook endpoint (used by ``test_load.py``).

Why asyncio and one client: on a 2-core machine the generator shares the CPU with the
api-server it measures, so it must cost little per request; one ``httpx.AsyncClient`` with a
connection pool of exactly ``concurrency`` keep-alive connections and a semaphore keeps that many
requests in flight and no more. A redelivery is the *same* ``Delivery`` sent again: the same
bytes, headers and delivery id, as a sender's retry would be.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["Delivery", "Answer", "Load", "make_deliveries", "send_all", "summary", "by_delivery", "latest",
           "retry_refused"]

WEBHOOK_PREFIX = "/api/v1/executions/webhook"


@dataclass(frozen=True)
class Delivery:
    """One event a sender delivers: dedupe by ``Idempotency-Key`` or by a signed GitHub delivery."""

    delivery_id: str
    path: str
    body: bytes
    headers: dict[str, str] = field(hash=False)


@dataclass(frozen=True)
class Answer:
    delivery: Delivery
    status: int
    body: Any
    retry_after: str | None
    seconds: float


@dataclass(frozen=True)
class Load:
    answers: list[Answer]
    seconds: float
    client_cpu_seconds: float


def make_deliveries(count: int, *, namespace: str, idem_key: str, github_key: str, github_secret: str,
                    seed: int = 4) -> list[Delivery]:
    """``count`` requests: two thirds distinct deliveries, one third redeliveries of some of them.

    Half of the redeliveries follow their original at once (both in flight together: the race
    the unique ``(dag_id, run_id)`` must settle), the other half come anywhere later. Even
    deliveries use the ``Idempotency-Key`` trigger, odd ones the GitHub-signed trigger.
    """
    rng = random.Random(seed)
    distinct = count - count // 3
    nonce = uuid.uuid4().hex[:8]
    originals = []
    for i in range(distinct):
        delivery_id = f"{nonce}-{i:05d}"
        body = json.dumps({"action": "opened", "number": i, "repository": {"full_name": "t4pg/load"}}).encode()
        if i % 2 == 0:
            path = f"{WEBHOOK_PREFIX}/{namespace}/postgres_load/{idem_key}"
            headers = {"Content-Type": "application/json", "Idempotency-Key": delivery_id}
        else:
            path = f"{WEBHOOK_PREFIX}/{namespace}/postgres_load/{github_key}"
            signature = hmac.new(github_secret.encode(), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                       "X-GitHub-Delivery": delivery_id, "X-Hub-Signature-256": f"sha256={signature}"}
        originals.append(Delivery(delivery_id, path, body, headers))
    order = list(originals)
    for n, i in enumerate(rng.sample(range(distinct), count - distinct)):
        position = order.index(originals[i])
        order.insert(position + (1 if n % 2 == 0 else rng.randint(1, len(order) - position)), originals[i])
    return order


async def _send_all(base_url: str, deliveries: list[Delivery], concurrency: int) -> Load:
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:

        async def one(delivery: Delivery) -> Answer:
            async with gate:
                started = time.perf_counter()
                response = await client.post(delivery.path, content=delivery.body, headers=delivery.headers)
                seconds = time.perf_counter() - started
            try:
                body = response.json()
            except ValueError:
                body = response.text
            return Answer(delivery, response.status_code, body, response.headers.get("retry-after"), seconds)

        started, cpu = time.perf_counter(), time.process_time()
        answers = await asyncio.gather(*(one(d) for d in deliveries))
        return Load(list(answers), time.perf_counter() - started, time.process_time() - cpu)


def send_all(base_url: str, deliveries: list[Delivery], *, concurrency: int, timeout: float = 180) -> Load:
    """Send every delivery with ``concurrency`` in flight; give up (TimeoutError) after ``timeout`` s."""

    async def bounded() -> Load:
        return await asyncio.wait_for(_send_all(base_url, deliveries, concurrency), timeout)

    return asyncio.run(bounded())


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else 0.0


def summary(label: str, load: Load) -> str:
    """One line: requests, rate, status counts, p50/p99 latency, the generator's own CPU share."""
    latencies = [a.seconds for a in load.answers]
    statuses = dict(sorted(Counter(a.status for a in load.answers).items()))
    return (f"{label}: {len(load.answers)} requests in {load.seconds:.1f} s = "
            f"{len(load.answers) / load.seconds:.0f} req/s; statuses {statuses}; "
            f"latency p50 {_percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p99 {_percentile(latencies, 0.99) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms; load generator CPU {load.client_cpu_seconds:.1f} s "
            f"({100 * load.client_cpu_seconds / load.seconds:.0f}% of one core)")


def by_delivery(answers: list[Answer]) -> dict[str, list[Answer]]:
    """Every answer of each delivery id, in the order received."""
    grouped: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        grouped[answer.delivery.delivery_id].append(answer)
    return grouped


def latest(answers: list[Answer]) -> dict[Delivery, Answer]:
    """Each delivery's best answer so far: a 200 if it got one, else its last answer."""
    best: dict[Delivery, Answer] = {}
    for answer in answers:
        if best.get(answer.delivery) is None or best[answer.delivery].status != 200:
            best[answer.delivery] = answer
    return best


def retry_refused(base_url: str, answers: list[Answer], *, concurrency: int, rounds_timeout: float = 120,
                  pause: float = 1.0) -> tuple[list[Answer], int]:
    """A sender's retries: every delivery still without a 200 is sent again (one in flight per
    delivery, ``pause`` between rounds) until each has its 200. Returns every answer and how many
    retries were sent; raises TimeoutError when some delivery is still refused after the timeout."""
    answers, retried, deadline = list(answers), 0, time.monotonic() + rounds_timeout
    while pending := [d for d, a in latest(answers).items() if a.status != 200]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} deliveries still refused after {rounds_timeout:g} s of retries")
        time.sleep(pause)
        answers += send_all(base_url, pending, concurrency=concurrency).answers
        retried += len(pending)
    return answers, retried

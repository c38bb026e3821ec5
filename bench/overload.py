"""The overload question: a burst several times what the server sustains, with delivery ids.

Every request must be answered in bounded time, with a run (200) or a 503 carrying
``Retry-After``; never a client timeout, never another 5xx. The sender then retries every 503
(as GitHub or Stripe would) and must end with exactly one run per delivery, every 200 backed by
a run in the database. Sent with ``tools/loadgen.py`` (asyncio httpx, one connection per
request in flight) rather than wrk, because each delivery carries its own id and the retries
need each answer.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter

from bench.load import Request, run_wrk
from bench.server import WEBHOOK, BenchServer
from tools.loadgen import Delivery, latest, retry_refused, send_all

__all__ = ["overload"]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else 0.0


_ACCESS = re.compile(r"duration_us=(\d+).*?path=/api/v1/executions/webhook/\S*.*?status_code=(\d+)")


def _server_times(log: str) -> list[tuple[int, float]]:
    """``(status, seconds)`` of each webhook answer in the api-server's access log (Airflow 3.2+
    writes ``duration_us``; earlier releases' uvicorn log has no duration: an empty list)."""
    return [(int(m.group(2)), int(m.group(1)) / 1e6) for m in _ACCESS.finditer(log)]


def overload(server: BenchServer, requests: int = 2000, concurrency: int = 128) -> dict:
    nonce = uuid.uuid4().hex[:8]
    path = f"{WEBHOOK}/bench/bench_trigger/bench-key"
    deliveries = [Delivery(f"{nonce}-{i:05d}", path, json.dumps({"n": i}).encode(),
                           {"Content-Type": "application/json", "Idempotency-Key": f"{nonce}-{i:05d}"})
                  for i in range(requests)]
    runs_before = server.count_runs("bench_trigger")
    log_from = len(server.stack.log("api-server"))
    client_cpu = time.process_time()
    burst = send_all(server.url, deliveries, concurrency=concurrency, timeout=600)
    client_cpu = time.process_time() - client_cpu
    served = _server_times(server.stack.log("api-server")[log_from:])
    first = list(burst.answers)
    statuses = Counter(a.status for a in first)
    refused = [a for a in first if a.status == 503]
    answers, retried = retry_refused(server.url, first, concurrency=16, rounds_timeout=600)
    accepted = {a.body["dag_run_id"] for a in latest(answers).values() if a.status == 200}
    server.drain(f"{WEBHOOK}/bench/bench_conditions/bench-key")
    runs_added = server.count_runs("bench_trigger") - runs_before
    latencies = [a.seconds for a in first]
    return {
        "requests": requests,
        "concurrency": concurrency,
        "seconds": round(burst.seconds, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "share_503": round(len(refused) / requests, 3),
        "retry_after_on_every_503": all(a.retry_after for a in refused),
        "max_s": round(max(latencies), 3),
        "p99_s": round(_percentile(latencies, 0.99), 3),
        "max_503_s": round(max((a.seconds for a in refused), default=0.0), 3),
        # the api-server's own time per answer (Airflow's access log: from its first middleware
        # to the last byte), without the load generator's: it runs on the same 2 cores
        "server_max_s": round(max((s for _, s in served), default=0.0), 3),
        "server_p99_s": round(_percentile([s for _, s in served], 0.99), 3),
        "server_max_503_s": round(max((s for status, s in served if status == 503), default=0.0), 3),
        "server_answers_logged": len(served),
        "load_generator_cores_busy": round(client_cpu / burst.seconds, 2) if burst.seconds else None,
        "retries": retried,
        "deliveries_with_a_run": len(accepted),
        "runs_added": runs_added,
        "wrk": _wrk_burst(server, path, concurrency),
    }


def _wrk_burst(server: BenchServer, path: str, concurrency: int, seconds: float = 15.0) -> dict:
    """The same overload as wrk sees it: a C load generator that costs the 2 cores next to nothing,
    so its answer times are the server's plus the network, not a Python client's scheduling.

    ``concurrency`` connections for ``seconds``, each request with a new delivery id; wrk's own
    timeout is 10 s (GitHub's). No retries here: the Python sender above proves exactly-once; this
    proves the bounded answer time, and that every 200 made one run.
    """
    runs_before = server.count_runs("bench_trigger")
    log_from = len(server.stack.log("api-server"))
    result = run_wrk(Request("overload", server.url + path, 200, body='{"n": 0}', unique_header="Idempotency-Key"),
                     concurrency, seconds, timeout_s=10.0)
    server.drain(f"{WEBHOOK}/bench/bench_conditions/bench-key")
    served = _server_times(server.stack.log("api-server")[log_from:])
    return {
        "connections": concurrency,
        "seconds": round(result.seconds, 2),
        "statuses": result.status,
        "socket_errors": result.errors,  # "timeout": no answer within 10 s
        "max_s": round(result.max_ms / 1000, 3),
        "p99_s": round(result.p99_ms / 1000, 3),
        "p50_s": round(result.p50_ms / 1000, 3),
        "server_max_503_s": round(max((s for status, s in served if status == 503), default=0.0), 3),
        "client_cpu_s": round(result.client_cpu_s, 3),
        "runs_added": server.count_runs("bench_trigger") - runs_before,
    }

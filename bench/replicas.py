"""Two api-server replicas on one PostgreSQL behind nginx, against one replica behind the same nginx.

The question of docs/production.md: what a second replica adds, and whether exactly-once still
holds when an ingress spreads one sender's deliveries over replicas. Both variants run at the
same time on the same database (the replicas are separate ``airflow api-server`` processes,
``tools/replicas.py``): one nginx sends to both replicas, another to replica 0 alone, and wrk
loads each in alternating rounds (``load.interleaved``), so the ratio compares the topologies and
not the machine's drift. Then a burst of deliveries with ids, each sent twice, is spread over the
two replicas: the database must hold exactly one run per delivery. On a 2-core machine two
replicas share the same two cores, so the ratio says what a second process buys there, not what
a second machine would.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter

from bench.load import Request, interleaved
from bench.server import BENCH, WEBHOOK
from tools import postgres
from tools.loadgen import Delivery
from tools.nginx_balancer import NginxBalancer
from tools.replicas import ReplicatedStack, send_spread

__all__ = ["replicas"]

_BODY = '{"logical_date": null}'
_PATH = f"{WEBHOOK}/bench/bench_trigger/bench-key"


def _count_runs(stack: ReplicatedStack) -> int:
    status, body = stack.api("GET", "/api/v2/dags/bench_trigger/dagRuns?limit=1")
    if status != 200:
        raise RuntimeError(f"counting runs: {status} {str(body)[:300]}")
    return body["total_entries"]


def _exactly_once(stack: ReplicatedStack, deliveries: int, concurrency: int) -> dict:
    nonce = uuid.uuid4().hex[:8]
    sent = [Delivery(f"{nonce}-{i:04d}", _PATH, json.dumps({"n": i}).encode(),
                     {"Content-Type": "application/json", "Idempotency-Key": f"{nonce}-{i:04d}"})
            for i in range(deliveries)]
    before = _count_runs(stack)
    attempts = send_spread(stack.urls, sent + sent, concurrency=concurrency)  # each delivery twice
    statuses = Counter(a.status for a in attempts)
    named = {a.body["dag_run_id"] for a in attempts if a.status == 200 and isinstance(a.body, dict)}
    return {
        "deliveries": deliveries,
        "requests": 2 * deliveries,
        "concurrency": concurrency,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "runs_added": _count_runs(stack) - before,
        "runs_named_by_200s": len(named),
    }


def replicas(seconds: float, rounds: int, concurrency: int = 16, deliveries: int = 500) -> dict:
    """Runs/s at ``concurrency`` through nginx to two replicas vs to one, and exactly-once over both."""
    with postgres.fresh_database() as url:
        stack = ReplicatedStack([BENCH / "dags"], replicas=2, database_url=url, workers=1,
                                env={"AIRFLOW__WEBHOOK_TRIGGER__KEY_CACHE_SECONDS": "10"})
        balancers: list[NginxBalancer] = []
        try:
            stack.start()
            both, one = NginxBalancer(stack.ports), NginxBalancer(stack.ports[:1])
            balancers += [both, one]
            variants = [Request("two_replicas", both.url + _PATH, 200, body=_BODY),
                        Request("one_replica", one.url + _PATH, 200, body=_BODY)]
            results = {name: agg.as_dict() for name, agg in interleaved(variants, concurrency, seconds, rounds).items()}
            two, single = results["two_replicas"], results["one_replica"]
            ratios = [round(a / b, 3) if b else None for a, b in zip(two["per_s_rounds"], single["per_s_rounds"])]
            return {
                "concurrency": concurrency,
                "two_replicas": two,
                "one_replica": single,
                "ratio_rounds": ratios,
                "ratio_runs_per_s": round(two["per_s"] / single["per_s"], 3) if single["per_s"] else None,
                "exactly_once": _exactly_once(stack, deliveries, concurrency),
            }
        finally:
            for balancer in balancers:
                balancer.close()
            stack.cleanup()

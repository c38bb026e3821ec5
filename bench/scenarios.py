"""What the benchmark measures, one function per question the issue asks.

- ``triggering``: runs/s and latency, webhook vs Airflow's ``POST /api/v2/dags/{id}/dagRuns``
  (same DAG, same server and database, and the same run: the REST call carries the very conf
  the webhook's run gets), every 200 checked against the runs the database really holds;
- ``no_write``: the 404 and 204 paths vs an empty Flask handler behind the same WSGI bridge, and,
  for context, behind a2wsgi and as a native FastAPI handler;
- ``scale``: 404/204/200 latency and the api-server's memory with more and more DAGs declaring
  webhooks;
- ``declaration``: seconds from a serialized (new or changed) declaration to its first 200.
"""

from __future__ import annotations

import json
import sys
import time

from bench.load import Request, interleaved
from bench.server import WEBHOOK, BenchServer

__all__ = ["triggering", "no_write", "scale", "declaration", "say"]

TRIGGER_BODY = '{"logical_date": null}'
PROBE_BODY = '{"action": "test"}'  # bench_conditions wants action == deploy: never met (204)
JSON = ("Content-Type", "application/json")


def say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _summary(aggregates: dict) -> dict[str, dict]:
    return {name: agg.as_dict() for name, agg in aggregates.items()}


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _round_ratios(a: dict, b: dict) -> list[float | None]:
    """Per round, ``a``'s rate over ``b``'s (shows how steady the ratio was)."""
    return [_ratio(x, y) for x, y in zip(a["per_s_rounds"], b["per_s_rounds"])]


def webhook_run_conf(server: BenchServer) -> dict:
    """The conf of the run the benchmark's webhook request creates, read back through the REST API.

    Why the REST baseline sends it: a run's conf is validated by Airflow against the DAG's params
    key by key (``body``, ``headers``, ``parameters`` each cost a JSON-schema check), and stored.
    A REST call without conf would create a cheaper run than the webhook does; with this conf,
    both sides create the same run and the ratio compares only how the request gets there.
    """
    status, answer = server.send("POST", f"{WEBHOOK}/bench/bench_trigger/bench-key", TRIGGER_BODY.encode())
    if status != 200:
        raise RuntimeError(f"the webhook answered {status}: {answer[:300]!r}")
    run_id = json.loads(answer)["dag_run_id"]
    status, run = server.send("GET", f"/api/v2/dags/bench_trigger/dagRuns/{run_id}", auth=True)
    if status != 200:
        raise RuntimeError(f"reading run {run_id}: {status} {run[:300]!r}")
    return json.loads(run)["conf"]


def triggering(server: BenchServer, concurrencies: list[int], seconds: float, rounds: int) -> list[dict]:
    webhook = Request("webhook", f"{server.url}{WEBHOOK}/bench/bench_trigger/bench-key", 200, body=TRIGGER_BODY)
    conf = webhook_run_conf(server)
    rest_body = json.dumps({**json.loads(TRIGGER_BODY), "conf": conf})
    rest = Request("rest", f"{server.url}/api/v2/dags/bench_trigger/dagRuns", 200, body=rest_body,
                   headers=(JSON, ("Authorization", f"Bearer {server.token()}")))
    # one client only: what Airflow's create_dagrun alone allows (bench/empty_plugin.py, "floor")
    floor = Request("floor", f"{server.url}/api/v1/executions/floor/bench_trigger", 200, body=json.dumps({"conf": conf}))
    probe = f"{WEBHOOK}/bench/bench_conditions/bench-key"
    out = []
    for connections in concurrencies:
        variants = [webhook, rest, floor] if connections == 1 else [webhook, rest]
        say(f"{server.db}: triggering at concurrency {connections} ({' vs '.join(v.name for v in variants)}, "
            f"{rounds}x{seconds:g}s each)")
        in_db = {v.name: 0 for v in variants}
        drained = {v.name: 0.0 for v in variants}
        last = [server.count_runs("bench_trigger")]

        def between(request: Request, phase: str) -> None:
            drained[request.name] += server.drain(probe)
            now = server.count_runs("bench_trigger")
            if phase == "measure":
                in_db[request.name] += now - last[0]
            last[0] = now

        results = _summary(interleaved(variants, connections, seconds, rounds, between=between,
                                       cpu_probe=server.cpu_seconds))
        for name, result in results.items():
            result["runs_in_db"], result["drain_s"] = in_db[name], round(drained[name], 2)
        w, r = results["webhook"], results["rest"]
        row = {
            "concurrency": connections,
            "webhook": w,
            "rest": r,
            "ratio_runs_per_s": _ratio(w["per_s"], r["per_s"]),
            "ratio_rounds": _round_ratios(w, r),
            "ratio_server_cpu_per_request": _ratio(r["server_cpu_ms_per_request"] or 0, w["server_cpu_ms_per_request"] or 0),
        }
        if "floor" in results:
            f = results["floor"]
            row.update({
                "floor": f,
                "ratio_floor_vs_rest_rounds": _round_ratios(f, r),
                "ratio_webhook_vs_floor_rounds": _round_ratios(w, f),
                "cpu_ms_per_request": {name: results[name]["server_cpu_ms_per_request"] for name in results},
            })
        out.append(row)
        say(f"  webhook {w['per_s']} runs/s (p50 {w['p50_ms']} ms, failed {w['failed']}), "
            f"REST {r['per_s']} runs/s (p50 {r['p50_ms']} ms, failed {r['failed']})"
            + (f", create_dagrun alone {results['floor']['per_s']} runs/s" if "floor" in results else ""))
    return out


def no_write(server: BenchServer, concurrencies: list[int], seconds: float, rounds: int) -> list[dict]:
    base = server.url + "/api/v1/executions"
    requests = [
        Request("404", f"{base}/webhook/bench/bench_trigger/not-the-key", 404, body=PROBE_BODY),
        Request("204", f"{base}/webhook/bench/bench_conditions/bench-key", 204, body=PROBE_BODY),
        Request("empty_bridge", f"{base}/empty-bridge/bench/bench_conditions/bench-key", 204, body=PROBE_BODY),
        Request("empty_a2wsgi", f"{base}/empty/bench/bench_conditions/bench-key", 204, body=PROBE_BODY),
        Request("native_asgi", f"{base}/native/bench/bench_conditions/bench-key", 204, body=PROBE_BODY),
    ]
    out = []
    for connections in concurrencies:
        say(f"{server.db}: no-write paths at concurrency {connections} ({rounds}x{seconds:g}s each)")
        results = _summary(interleaved(requests, connections, seconds, rounds, cpu_probe=server.cpu_seconds))
        row = {"concurrency": connections, **results}
        for empty in ("empty_bridge", "empty_a2wsgi"):
            for name in ("404", "204"):
                row[f"ratio_{name}_vs_{empty}"] = _ratio(results[name]["per_s"], results[empty]["per_s"])
                row[f"ratio_{name}_vs_{empty}_rounds"] = _round_ratios(results[name], results[empty])
                row[f"cpu_ratio_{name}_vs_{empty}"] = _ratio(results[empty]["server_cpu_ms_per_request"] or 0,
                                                             results[name]["server_cpu_ms_per_request"] or 0)
        out.append(row)
        say("  " + ", ".join(f"{n} {results[n]['per_s']}/s" for n in results)
            + f" -> 404 {row['ratio_404_vs_empty_bridge']}x, 204 {row['ratio_204_vs_empty_bridge']}x of the empty handler")
    return out


def _wait_until(check, timeout: float, interval: float = 0.05) -> float | None:
    """Seconds until ``check()`` is true (polled), or None after ``timeout``."""
    started = time.time()
    while time.time() - started < timeout:
        if check():
            return time.time()
        time.sleep(interval)
    return None


def _scale_dag(count: int) -> tuple[str, str]:
    last = count - 1
    return f"bench_scale_{last:05d}", f"scale-key-{last}"


def scale(server: BenchServer, sizes: list[int], seconds: float, rounds: int, *, declare_at: set[int]) -> list[dict]:
    out = []
    current = 10  # what BenchServer serialized at start
    for size in sizes:
        row: dict = {"dags": size, "declared_webhooks": size + 2}
        dag_id, key = _scale_dag(size)
        path = f"{WEBHOOK}/bench/{dag_id}/{key}"
        if size != current:
            say(f"{server.db}: {size} DAGs declaring webhooks: airflow dags reserialize ...")
            server.write_scale_file(size)
            row["reserialize_s"] = round(server.reserialize(), 1)
            serialized_at = time.time()
            served = _wait_until(lambda: server.send("POST", path, PROBE_BODY.encode())[0] == 204, timeout=300)
            row["index_pickup_s"] = None if served is None else round(served - serialized_at, 2)
            current = size
            time.sleep(5)  # two refresh intervals: the refresh thread settles
        row["rss_mb_after_index"] = round(server.rss_mb(), 1)
        requests = [
            Request("404", f"{server.url}{WEBHOOK}/bench/{dag_id}/not-the-key", 404, body=PROBE_BODY),
            Request("204", f"{server.url}{path}", 204, body=PROBE_BODY),
            Request("200", f"{server.url}{path}", 200, body='{"action": "deploy"}'),
        ]
        say(f"{server.db}: latency at {size} DAGs (concurrency 1, {rounds}x{seconds:g}s each)")
        row["paths"] = _summary(interleaved(requests, 1, seconds, rounds, cpu_probe=server.cpu_seconds))
        row["rss_mb"] = round(server.rss_mb(), 1)
        if size in declare_at:
            row["declaration"] = declaration(server, f"bench_decl_{size}")
        say(f"  rss {row['rss_mb']} MB; p50 " + ", ".join(f"{n} {r['p50_ms']} ms" for n, r in row["paths"].items()))
        out.append(row)
    return out


_DECL_DAG = '''
from airflow.sdk import DAG, task
from airflow_webhook_trigger import webhook

with DAG(dag_id={dag_id!r}, schedule=None, tags=["bench"], params={{"webhook": webhook({key!r}, namespace="bench")}}):
    @task
    def noop():
        return "ok"

    noop()
'''


def declaration(server: BenchServer, dag_id: str) -> dict:
    """Seconds from the commit of a serialized new (then changed) declaration to its first 200."""
    file = server.stack.dags / f"{dag_id}.py"
    result = {"dag_id": dag_id, "refresh_interval_s": 2.0}
    for step, key in (("new", "decl-key-1"), ("changed", "decl-key-2")):
        file.write_text(_DECL_DAG.format(dag_id=dag_id, key=key))
        committed = server.serialize_file(file)
        path = f"{WEBHOOK}/bench/{dag_id}/{key}"
        served = _wait_until(lambda: server.send("POST", path, b"{}")[0] == 200, timeout=60)
        result[f"{step}_s"] = None if served is None else round(served - committed, 3)
        result[f"{step}_then_stable"] = all(server.send("POST", path, b"{}")[0] == 200 for _ in range(5))
    old = server.send("POST", f"{WEBHOOK}/bench/{dag_id}/decl-key-1", b"{}")[0]
    result["old_key_after_change"] = old
    say(f"  declaration served {result['new_s']} s after commit (new), {result['changed_s']} s (changed)")
    return result

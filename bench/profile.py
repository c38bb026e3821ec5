"""Where the api-server's time goes, per path: py-spy samples taken while wrk loads one path.

``python bench/run.py --profile`` calls ``profile_paths`` after the measurements: for each path it
records the api-server worker with ``py-spy record --gil`` (only the thread holding the GIL, so
the samples are Python CPU time, not threads waiting), writes a flame graph (SVG) and the raw
stacks, and sums the samples into a few buckets named after who spends them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections import Counter
from pathlib import Path

from bench.load import Request, run_wrk
from bench.scenarios import webhook_run_conf
from bench.server import WEBHOOK, BenchServer

__all__ = ["profile_paths", "BUCKETS"]

# Each sample goes to the bucket of its leaf-most frame that matches one (so a wrapper such as a
# middleware does not swallow what runs below it); for a frame matching several, the first wins.
BUCKETS: tuple[tuple[str, str], ...] = (
    ("plugin: audit log writes (background)", r"airflow_webhook_trigger/audit\.py|write_audit_log"),
    ("Airflow: create_dagrun", r"create_dagrun|airflow/models/dagrun\.py|serialization/definitions/"),
    ("database: commit (flushes the run's rows)", r"Session\.commit|airflow/utils/session\.py"),
    ("plugin: run creation queries", r"airflow_webhook_trigger/(airflow/dag_runs/.*|runs)\.py"),
    ("plugin: conditions and templates", r"airflow_webhook_trigger/(conditions/|templating)|jinja2"),
    ("Flask and the WSGI bridge", r"flask/|werkzeug/|a2wsgi|airflow_webhook_trigger/http/bridge\.py"),
    ("plugin: request, dispatch, answer", r"airflow_webhook_trigger/"),
    ("logging", r"logging/__init__|structlog"),
    ("Airflow API: auth, audit log, response models", r"airflow/api_fastapi/(core_api|auth|logging)|pydantic|jwt|fastapi/(routing|dependencies)"),
    ("uvicorn, Starlette, middlewares, threads", r"uvicorn|starlette|fastapi|anyio|asyncio|http_access_log|concurrent/futures|threading"),
)


def _bucket(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in BUCKETS:
            if re.search(pattern, frame):
                return name
    return "other"


def summarize(raw: Path) -> dict:
    buckets: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        buckets[_bucket(stack.split(";"))] += int(count)
    return {"samples": total, "share": {k: round(v / total, 3) for k, v in buckets.most_common()} if total else {}}


def _record(pid: int, seconds: float, out: Path, fmt: str) -> None:
    subprocess.run(["py-spy", "record", "--gil", "--nonblocking", "-r", "200", "-d", str(int(seconds)), "-p", str(pid),
                    "-f", fmt, "-o", str(out)], capture_output=True, timeout=seconds + 60)


def profile_paths(server: BenchServer, out: Path, seconds: float = 8.0) -> dict:
    if not shutil.which("py-spy"):
        return {"error": "py-spy is not installed (pip install py-spy)"}
    out.mkdir(parents=True, exist_ok=True)
    pid = server.worker_pids()[0]
    base = server.url + "/api/v1/executions"
    auth = (("Content-Type", "application/json"), ("Authorization", f"Bearer {server.token()}"))
    paths = [  # (request, concurrency): the 200 paths one at a time, as REST fails beyond that on SQLite
        (Request("404", f"{base}/webhook/bench/bench_trigger/not-the-key", 404, body='{"action": "test"}'), 4),
        (Request("204", f"{base}/webhook/bench/bench_conditions/bench-key", 204, body='{"action": "test"}'), 4),
        (Request("empty_bridge", f"{base}/empty-bridge/bench/bench_conditions/bench-key", 204, body='{"action": "test"}'), 4),
        (Request("webhook_200", f"{server.url}{WEBHOOK}/bench/bench_trigger/bench-key", 200, body='{"logical_date": null}'), 1),
        (Request("rest_200", f"{server.url}/api/v2/dags/bench_trigger/dagRuns", 200, headers=auth,
                 body=json.dumps({"logical_date": None, "conf": webhook_run_conf(server)})), 1),
    ]
    result = {"worker_pid": pid, "note": "py-spy --gil samples of one api-server worker", "paths": {}}
    for request, connections in paths:
        raw, svg = out / f"{request.name}.txt", out / f"{request.name}.svg"
        # the load runs a little longer than the two recordings, one after the other
        load = threading.Thread(target=run_wrk, args=(request, connections, 2 * seconds + 4))
        load.start()
        _record(pid, seconds, raw, "raw")
        _record(pid, seconds, svg, "flamegraph")
        load.join()
        result["paths"][request.name] = {"concurrency": connections, **summarize(raw), "flamegraph": str(svg)}
        server.drain(f"{WEBHOOK}/bench/bench_conditions/bench-key")
    return result

"""The benchmark: the webhook vs Airflow's own trigger API, on one real api-server per database.

    python bench/run.py [--quick] [--db sqlite|postgres|both] [--out bench/results] [--profile]

For each database it starts ONE api-server with the plugin (SQLite: 1 worker; PostgreSQL: 2
workers, as a deployment would run it), measures with ``wrk`` (see ``bench/load.py`` for why),
prints one JSON document on stdout, writes it and a PNG chart to ``--out``, and prints every
target with PASS/FAIL and its measured ratio on stderr. Ratios, not absolute numbers, are the
result: both sides of every ratio are measured in the same run, interleaved, on the same server.
Needs ``wrk`` (``apt-get install -y wrk``), the ``bench`` extra (matplotlib) and, for
PostgreSQL, Debian's ``postgresql`` (``tools/postgres.py`` starts it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import machine, scenarios, targets  # noqa: E402
from bench.chart import write_chart  # noqa: E402
from bench.load import require_wrk  # noqa: E402
from bench.overload import overload  # noqa: E402
from bench.replicas import replicas  # noqa: E402
from bench.server import BenchServer  # noqa: E402

FULL = {"seconds": 4.0, "rounds": 5, "concurrencies": [1, 4, 16], "sizes": [10, 1000, 5000],
        "overload": {"requests": 2000, "concurrency": 128}}
QUICK = {"seconds": 2.0, "rounds": 1, "concurrencies": [1, 4, 16], "sizes": [10, 300],
         "overload": {"requests": 500, "concurrency": 128}}


def _client_share(phase: dict) -> dict:
    """The load generator's CPU next to the server's, over every run of the phase."""
    client = server = wall = 0.0

    def walk(node) -> None:
        nonlocal client, server, wall
        if isinstance(node, dict):
            if "client_cpu_s" in node and "server_cpu_s" in node:
                client += node["client_cpu_s"]
                server += node["server_cpu_s"]
                wall += node["seconds"]
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(phase)
    return {
        "client_cpu_s": round(client, 2),
        "server_cpu_s": round(server, 2),
        "load_seconds": round(wall, 1),
        "client_share_of_cpu_used": round(client / (client + server), 3) if client + server else None,
        "client_cores_busy": round(client / wall, 3) if wall else None,
    }


PARTS = ("no_write", "triggering", "overload", "scale", "replicas")


def run_phase(db: str, settings: dict, *, scale_here: bool, profile_dir: Path | None,
              parts: tuple[str, ...] = PARTS) -> dict:
    workers = 2 if db == "postgres" else 1
    scenarios.say(f"== {db}: one api-server, {workers} worker(s)")
    server = BenchServer(db, workers=workers, scale_count=10)
    started = time.monotonic()
    try:
        server.start()
        phase: dict = {"api_server_workers": workers, "setup": dict(server.timings)}
        s, r, cs = settings["seconds"], settings["rounds"], settings["concurrencies"]
        if "no_write" in parts:
            phase["no_write"] = scenarios.no_write(server, cs, s, r)
        if "triggering" in parts:
            phase["triggering"] = scenarios.triggering(server, cs, s, r)
        if "overload" in parts:
            phase["overload"] = overload(server, **settings["overload"])
        if scale_here and "scale" in parts:
            sizes = settings["sizes"]
            phase["scale"] = scenarios.scale(server, sizes, s, r, declare_at={sizes[0], sizes[-1]})
        if profile_dir is not None:
            from bench.profile import profile_paths

            phase["profile"] = profile_paths(server, profile_dir / db, seconds=max(5.0, s))
        phase["load_generator"] = _client_share(phase)
        phase["wall_s"] = round(time.monotonic() - started, 1)
        return phase
    finally:
        server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs and at most 300 DAGs (for development)")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--profile", action="store_true", help="also record py-spy profiles of each path (slow)")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated parts to run (default all: {','.join(PARTS)}); e.g. "
                             "--only triggering,overload for the run path and overload rows alone")
    parser.add_argument("--clients", default=None,
                        help="comma-separated concurrencies for the triggering and no-write parts (default 1,4,16); "
                             "e.g. --only triggering --clients 1 for the one-client row alone")
    args = parser.parse_args(argv)
    parts = tuple(part.strip() for part in args.only.split(",") if part.strip())
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    require_wrk()
    settings = dict(QUICK if args.quick else FULL)
    if args.clients:
        settings["concurrencies"] = [int(c) for c in args.clients.split(",")]
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    result = {
        "benchmark": "airflow-webhook-trigger vs Airflow's POST /api/v2/dags/{dag_id}/dagRuns",
        "mode": "quick" if args.quick else "full",
        "settings": settings,
        "parts": list(parts),
        "load_generator": "wrk (C, epoll; Lua script for method, body, JWT header and per-status counts), 1 thread",
        "machine": machine.describe(),
        "phases": {},
    }
    for db in dbs:
        first = db == dbs[0]  # scale and profiles once, on the first database (SQLite: one worker)
        phase: dict = {}
        if set(parts) - {"replicas"}:
            phase = run_phase(db, settings, scale_here=first,
                              profile_dir=args.out / "profiles" if args.profile and first else None, parts=parts)
        if db == "postgres" and "replicas" in parts:  # replicas share one database: PostgreSQL only
            scenarios.say("== postgres: two api-server replicas behind nginx vs one")
            phase["replicas"] = replicas(settings["seconds"], settings["rounds"])
        result["phases"][db] = phase
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["targets"] = targets.evaluate(result["phases"])
    args.out.mkdir(parents=True, exist_ok=True)
    stem = ("benchmark-quick" if args.quick else "benchmark") + ("" if set(parts) == set(PARTS) else "-" + "-".join(parts))
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2))
    if {"no_write", "triggering", "scale"} <= set(parts):  # what the chart shows
        write_chart(result, args.out / f"{stem}.png")
    print(json.dumps(result, indent=2))
    print(targets.format_table(result["targets"]), file=sys.stderr)
    print(f"[bench] wrote {args.out / (stem + '.json')}" + (f" and {args.out / (stem + '.png')}" if {"no_write", "triggering", "scale"} <= set(parts) else ""),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark's JSON as the Markdown tables of ``docs/performance.md`` ("Results").

    python bench/report.py [bench/results/benchmark.json] > results.md

Why a script: the numbers in the docs must be the numbers of a run anyone can repeat, not copied
by hand; ``docs/performance.md`` pastes this output under "Results".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.targets import median_ratio  # noqa: E402

__all__ = ["render"]


def _fmt(value, suffix: str = "") -> str:
    return "—" if value is None else f"{value}{suffix}"


def _line(cells) -> str:
    return "|" + "|".join(f" {cell} " if str(cell) else " " for cell in cells) + "|"


def _table(header: list[str], rows: list[list]) -> list[str]:
    """A Markdown table: the header, its divider, one line per row of cells."""
    return [_line(header), "|" + "---|" * len(header), *(_line(row) for row in rows)]


def _rows(result: dict, phase_key: str):
    """``(db, phase, row)`` for every row of one kind of measurement, database by database."""
    for db, phase in result["phases"].items():
        for row in phase.get(phase_key) or []:
            yield db, phase, row


def _targets(result: dict) -> list[str]:
    rows = [[t["target"], _fmt(t["measured"]), t["threshold"], "PASS" if t["pass"] else "**FAIL**"]
            for t in result["targets"]]
    met = sum(t["pass"] for t in result["targets"])
    return _table(["target", "measured", "threshold", ""], rows) + ["", f"{met} of {len(result['targets'])} met."]


def _triggering(result: dict) -> list[str]:
    rows = []
    for db, phase, row in _rows(result, "triggering"):
        w, r, workers = row["webhook"], row["rest"], phase["api_server_workers"]
        rows.append([f"{db} ({workers} worker{'s' if workers > 1 else ''})", row["concurrency"], w["per_s"], r["per_s"],
                     _fmt(median_ratio(row["ratio_rounds"]), "×"), row["ratio_rounds"],
                     f"{w['p50_ms']} / {w['p99_ms']}", f"{r['p50_ms']} / {r['p99_ms']}",
                     f"{w['server_cpu_ms_per_request']} / {r['server_cpu_ms_per_request']}", f"{r['drain_s']} s"])
    lines = _table(["database", "concurrency", "webhook runs/s", "REST runs/s", "ratio (median of rounds)",
                    "ratio per round", "webhook p50 / p99", "REST p50 / p99", "server CPU ms per run, webhook / REST",
                    "REST: drain after"], rows)
    floors = [[db, row["floor"]["per_s"], _fmt(median_ratio(row["ratio_floor_vs_rest_rounds"]), "×"),
               row["ratio_floor_vs_rest_rounds"], _fmt(median_ratio(row["ratio_webhook_vs_floor_rounds"]), "×"),
               row["floor"]["server_cpu_ms_per_request"]]
              for db, _, row in _rows(result, "triggering") if "floor" in row]
    if floors:
        lines += ["", "One client, beside them: an endpoint that only calls `create_dagrun` and commits "
                  "(`bench/empty_plugin.py`, \"floor\"): the most any endpoint creating runs through Airflow reaches.", "",
                  *_table(["database", "create_dagrun alone, runs/s", "its ratio to REST (median)", "per round",
                           "webhook / create_dagrun alone", "server CPU ms per run"], floors)]
    return lines


def _no_write(result: dict) -> list[str]:
    rows = []
    for db, _, row in _rows(result, "no_write"):
        r404, r204 = row["ratio_404_vs_empty_bridge_rounds"], row["ratio_204_vs_empty_bridge_rounds"]
        rows.append([db, row["concurrency"], *(row[path]["per_s"] for path in PATHS), r404, r204,
                     f"{median_ratio(r404)}, {median_ratio(r204)}",
                     f"{row['cpu_ratio_404_vs_empty_bridge']}, {row['cpu_ratio_204_vs_empty_bridge']}"])
    return _table(["database", "concurrency", "404", "204", "empty (bridge)", "empty (a2wsgi)", "native FastAPI",
                   "404 / empty, per round", "204 / empty, per round", "median 404, 204", "CPU ratio 404, 204"], rows)


PATHS = ("404", "204", "empty_bridge", "empty_a2wsgi", "native_asgi")  # the no-write table's columns, in order


def _scale(result: dict) -> list[str]:
    out = []
    for db, phase in result["phases"].items():
        if not phase.get("scale"):
            continue
        rows = []
        for row in phase["scale"]:
            p, decl = row["paths"], row.get("declaration") or {}
            rows.append([f"{row['dags']:,}", _fmt(row.get("reserialize_s")), row["rss_mb"],
                         *(f"{p[path]['p50_ms']} / {p[path]['p99_ms']}" for path in ("404", "204", "200")),
                         f"{decl['new_s']} / {decl['changed_s']}" if decl else "—"])
        out += [f"Scale ({db}, concurrency 1):", "",
                *_table(["DAGs declaring webhooks", "reserialize (s)", "RSS (MB)", "404 p50 / p99 (ms)", "204 p50 / p99",
                         "200 p50 / p99", "new / changed declaration served after (s)"], rows)]
    return out


def _overload(result: dict) -> list[str]:
    rows = []
    for db, phase in result["phases"].items():
        o = phase.get("overload")
        if o:
            rows.append([f"{db} ({phase['api_server_workers']} worker{'s' if phase['api_server_workers'] > 1 else ''})",
                         f"{o['requests']} at {o['concurrency']}", o["statuses"], o["share_503"],
                         f"{_fmt(o.get('server_max_s'))} / {_fmt(o.get('server_p99_s'))}", _fmt(o.get("server_max_503_s")),
                         f"{o['max_s']} / {o['p99_s']}", o["max_503_s"], _fmt(o.get("load_generator_cores_busy")),
                         o["retries"], f"{o['runs_added']} / {o['deliveries_with_a_run']}"])
    if not rows:
        return []
    lines = _table(["database", "burst", "first answers", "503 share", "server: slowest / p99 answer (s)",
                    "server: slowest 503 (s)", "load generator: slowest / p99 (s)", "its slowest 503 (s)",
                    "its cores busy", "retries", "runs added / deliveries with a 200"], rows)
    wrk_rows = [[db, f"{w['connections']} for {w['seconds']:g} s", w["statuses"], w["socket_errors"] or "none",
                 f"{w['max_s']} / {w['p99_s']} / {w['p50_s']}", w["server_max_503_s"], f"{w['runs_added']}"]
                for db, phase in result["phases"].items() if (w := (phase.get("overload") or {}).get("wrk"))]
    if wrk_rows:
        lines += ["", "The same overload as `wrk` sent it (C, next to no CPU; a new delivery id per request, no "
                  "retries; wrk gives up after 10 s):", "",
                  *_table(["database", "connections", "answers", "socket errors", "slowest / p99 / p50 (s)",
                           "server: slowest 503 (s)", "runs added"], wrk_rows)]
    return lines


def _replicas(result: dict) -> list[str]:
    rows = []
    for db, phase in result["phases"].items():
        r = phase.get("replicas")
        if r:
            two, one, once = r["two_replicas"], r["one_replica"], r["exactly_once"]
            rows.append([db, r["concurrency"], two["per_s"], one["per_s"], _fmt(median_ratio(r["ratio_rounds"]), "×"),
                         r["ratio_rounds"], f"{two['p50_ms']} / {two['p99_ms']}", f"{one['p50_ms']} / {one['p99_ms']}",
                         f"{once['requests']} → {once['statuses']}, {once['runs_added']} runs for {once['deliveries']}"])
    return _table(["database", "concurrency", "two replicas runs/s", "one replica runs/s", "ratio (median of rounds)",
                   "ratio per round", "two p50 / p99 (ms)", "one p50 / p99", "each delivery sent twice, spread"],
                  rows) if rows else []


def _profile(result: dict) -> list[str]:
    out = []
    for db, phase in result["phases"].items():
        paths = (phase.get("profile") or {}).get("paths") or {}
        for name, p in paths.items():
            shares = ", ".join(f"{bucket} {share:.0%}" for bucket, share in p["share"].items() if share >= 0.015)
            out.append(f"- **{name}** ({db}, concurrency {p['concurrency']}, {p['samples']} samples): {shares}")
    return out


def _machine(result: dict) -> str:
    m = result["machine"]
    parts = f", parts: {', '.join(result['parts'])}" if result.get("parts") and len(result["parts"]) < 5 else ""
    return (f"Run of {m['date']} ({result['mode']}{parts}): {m['cpu_count']} × {m['cpu_model']}, {m['memory_gb']} GB, "
            f"Python {m['python']}, Airflow {m['airflow']}, {m.get('postgresql', '')}; load average "
            f"{m['load_average_at_start'][0]} at start and {m.get('load_average_at_end', ['?'])[0]} at the end; "
            f"settings {json.dumps(result['settings'])}.")


def render(result: dict) -> str:
    lines = [_machine(result), "", "### Targets", "", *_targets(result)]
    phases = result["phases"].values()
    if any(phase.get("triggering") for phase in phases):
        lines += ["", "### Triggering: runs/s and latency (ms)", "", *_triggering(result)]
    if any(phase.get("no_write") for phase in phases):
        lines += ["", "### No-write paths: requests/s", "", *_no_write(result)]
    if _scale(result):
        lines += ["", "### Scale", "", *_scale(result)]
    if _overload(result):
        lines += ["", "### Overload", "", *_overload(result)]
    if _replicas(result):
        lines += ["", "### Two replicas behind nginx (PostgreSQL)", "", *_replicas(result)]
    if _profile(result):
        lines += ["", "### Where the api-server's samples went (py-spy --gil)", "", *_profile(result)]
    for db, phase in result["phases"].items():
        share = phase.get("load_generator", {}).get("client_share_of_cpu_used")
        if share is not None:
            lines += ["", f"Load generator ({db}): wrk used {share:.1%} of all the CPU the phase used."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else Path("bench/results/benchmark.json")
    print(render(json.loads(path.read_text())), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

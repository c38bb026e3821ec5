"""The load generator: ``wrk`` driven by a generated Lua script, and nothing else.

Why wrk: the machine has 2 cores shared by the api-server and the client, so the client must
cost next to nothing. wrk is C with an epoll loop (one thread keeps 16 connections busy at a
few percent of one core), where a Python asyncio client would need a good part of a core for the
same request rate and steal it from the server being measured. Each run records the client's
own CPU time (``getrusage`` of the finished wrk child) so the JSON shows it was not the limit.

The Lua script sets the method, body and headers (the JWT for Airflow's REST API), counts the
answers per HTTP status across wrk's threads, and prints one JSON line at the end.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Request", "Result", "Aggregate", "run_wrk", "interleaved", "require_wrk"]

_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function response(status, headers, body)
  local k = tostring(status)
  if status == 503 and headers["retry-after"] == nil and headers["Retry-After"] == nil then k = "503 without Retry-After" end
  counts[k] = (counts[k] or 0) + 1
end
function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do all[k] = (all[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(all) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, '
    .. '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}, "status": {%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ", ")))
end
"""


def require_wrk() -> str:
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (the benchmark's load generator)")
    return path


def _lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


@dataclass(frozen=True)
class Request:
    """One kind of request to load the server with."""

    name: str
    url: str
    ok_status: int  # the answer this path is meant to give (200 run created, 404, 204)
    method: str = "POST"
    body: str = ""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    unique_header: str | None = None  # a header set to "<prefix>-<n>", new for every request (delivery ids)

    def script(self) -> str:
        lines = [_LUA, f"wrk.method = {_lua_string(self.method)}", f"wrk.body = {_lua_string(self.body)}"]
        lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in self.headers]
        if self.unique_header:
            prefix = _lua_string(f"{self.name}-{uuid.uuid4().hex[:8]}-")
            lines += ["sent = 0", "function request()", "  sent = sent + 1",
                      f"  wrk.headers[{_lua_string(self.unique_header)}] = {prefix} .. sent", "  return wrk.format()", "end"]
        return "\n".join(lines) + "\n"


@dataclass
class Result:
    """One wrk run of one request kind at one concurrency."""

    name: str
    connections: int
    seconds: float
    ok: int
    status: dict[str, int]
    errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    client_cpu_s: float

    @property
    def ok_per_s(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    server_cpu_s: float = 0.0


def run_wrk(request: Request, connections: int, seconds: float, timeout_s: float = 5.0, cpu_probe=None) -> Result:
    """Load the server with ``connections`` concurrent keep-alive connections for ``seconds``.

    ``cpu_probe()`` returns the server's cumulative CPU seconds, read before and after the run.
    """
    wrk = require_wrk()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(request.script())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = cpu_probe() if cpu_probe else 0.0
    try:
        done = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout_s:g}s", "-s", lua.name, request.url],
            capture_output=True, text=True, timeout=seconds + timeout_s + 30,
        )
    finally:
        Path(lua.name).unlink(missing_ok=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = (cpu_probe() - server_before) if cpu_probe else 0.0
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    data = json.loads(line[len("BENCHJSON "):])
    lat = data["latency_us"]
    status = {str(k): int(v) for k, v in data["status"].items()}
    return Result(
        name=request.name,
        connections=connections,
        seconds=data["duration_us"] / 1e6,
        ok=status.get(str(request.ok_status), 0),
        status=status,
        errors={k: v for k, v in data["errors"].items() if v},
        p50_ms=lat["p50"] / 1000, p90_ms=lat["p90"] / 1000, p99_ms=lat["p99"] / 1000, mean_ms=lat["mean"] / 1000,
        max_ms=lat["max"] / 1000,
        client_cpu_s=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        server_cpu_s=server_cpu,
    )


@dataclass
class Aggregate:
    """Several rounds of one request kind at one concurrency, summed (rates) or medianed (latency)."""

    name: str
    connections: int
    rounds: list[Result] = field(default_factory=list)

    def add(self, result: Result) -> None:
        self.rounds.append(result)

    def as_dict(self) -> dict:
        seconds = sum(r.seconds for r in self.rounds)
        ok = sum(r.ok for r in self.rounds)
        status: dict[str, int] = {}
        errors: dict[str, int] = {}
        for r in self.rounds:
            for k, v in r.status.items():
                status[k] = status.get(k, 0) + v
            for k, v in r.errors.items():
                errors[k] = errors.get(k, 0) + v
        answered = sum(status.values())
        server_cpu = sum(r.server_cpu_s for r in self.rounds)
        med = lambda attr: round(statistics.median(getattr(r, attr) for r in self.rounds), 2)  # noqa: E731
        return {
            "path": self.name,
            "concurrency": self.connections,
            "per_s": round(ok / seconds, 1) if seconds else 0.0,
            "per_s_rounds": [round(r.ok_per_s, 1) for r in self.rounds],
            "ok": ok,
            "seconds": round(seconds, 2),
            "status": status,
            "socket_errors": errors,
            "p50_ms": med("p50_ms"),
            "p90_ms": med("p90_ms"),
            "p99_ms": med("p99_ms"),
            "mean_ms": med("mean_ms"),
            "failed": answered - ok + sum(errors.values()),
            "client_cpu_s": round(sum(r.client_cpu_s for r in self.rounds), 3),
            "server_cpu_s": round(server_cpu, 3),
            "server_cpu_ms_per_request": round(1000 * server_cpu / answered, 3) if answered else None,
        }


def interleaved(
    requests: list[Request], connections: int, seconds: float, rounds: int, *,
    between=None, warmup: float = 1.0, timeout_s: float = 5.0, cpu_probe=None,
) -> dict[str, Aggregate]:
    """Run every request kind ``rounds`` times, alternating the order each round (A B, B A, ...).

    Why: this machine's background load drifts. Alternating short runs of the variants being
    compared spreads any drift over all of them, so the *ratio* between them holds even when
    the absolute numbers move. ``between(request, phase)`` runs after each run (e.g. to let the server
    drain requests stuck on a locked database before the next variant starts); ``phase`` is
    ``"warmup"`` or ``"measure"``.
    """
    results = {r.name: Aggregate(r.name, connections) for r in requests}
    if warmup:
        for request in requests:
            run_wrk(request, connections, warmup, timeout_s)
            if between:
                between(request, "warmup")
    for i in range(rounds):
        order = requests if i % 2 == 0 else list(reversed(requests))
        for request in order:
            results[request.name].add(run_wrk(request, connections, seconds, timeout_s, cpu_probe))
            if between:
                between(request, "measure")
    return results

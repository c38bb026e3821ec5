"""The one api-server a benchmark phase measures, configured like a deployment, not like the tests.

Differences from the test stack (``tools/stack.py``), each on purpose:

- Authentication is real: ``simple_auth_manager_all_admins`` is off (with it on, Airflow adds a
  middleware that mints a JWT on *every* request, which would slow the webhook and the empty
  handlers alike and hide the plugin's own cost), and the REST client logs in through
  ``POST /auth/token`` with a user and password, as any script calling Airflow's API must.
- The plugin's options are at their documented defaults (refresh every 2 s, keys cached 10 s),
  not the tests' fast-refresh values.
- ``bench/empty_plugin.py`` is copied into ``$AIRFLOW_HOME/plugins`` (the empty handlers).

Also here: the api-server process tree's resident memory and CPU time (psutil), and a "drain"
that waits until requests stuck behind a locked SQLite database are done before the next run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from tools.postgres import drop_database, ensure_postgres  # noqa: E402
from tools.stack import AirflowStack  # noqa: E402

__all__ = ["BenchServer", "WEBHOOK", "REST_USER"]

WEBHOOK = "/api/v1/executions/webhook"
REST_USER = ("bench", "bench-password")
SCALE_FILE = "bench_scale.py"


class BenchServer:
    def __init__(self, db: str, *, workers: int, scale_count: int) -> None:
        self.db = db
        self.workers = workers
        self.database_url = ensure_postgres() if db == "postgres" else None
        home_env = {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{REST_USER[0]}:admin",
            "AIRFLOW__WEBHOOK_TRIGGER__REFRESH_INTERVAL": "2",
            "AIRFLOW__WEBHOOK_TRIGGER__KEY_CACHE_SECONDS": "10",
        }
        self.stack = AirflowStack([BENCH / "dags"], database_url=self.database_url, workers=workers,
                                  env=home_env)
        passwords = self.stack.home / "passwords.json"
        passwords.write_text(json.dumps({REST_USER[0]: REST_USER[1]}))
        self.stack.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(passwords)
        (self.stack.home / "plugins").mkdir(exist_ok=True)
        shutil.copy(BENCH / "empty_plugin.py", self.stack.home / "plugins" / "bench_empty_plugin.py")
        self.write_scale_file(scale_count)
        self.url = self.stack.url
        self._token: str | None = None
        self.timings: dict[str, float] = {}

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> BenchServer:
        print(f"[bench] {self.db}: migrate, reserialize, start the api-server in {self.stack.home}", file=sys.stderr)
        started = time.monotonic()
        self.stack.migrate()
        self.timings["migrate_s"] = round(time.monotonic() - started, 2)
        started = time.monotonic()
        self.stack.reserialize()
        self.timings["reserialize_s"] = round(time.monotonic() - started, 2)
        started = time.monotonic()
        self.stack.start_api_server(timeout=300)
        self.timings["api_server_start_s"] = round(time.monotonic() - started, 2)
        return self

    def close(self) -> None:
        self.stack.cleanup()
        if self.database_url:
            drop_database(self.database_url)

    # -- DAGs ------------------------------------------------------------------------------------

    def write_scale_file(self, count: int) -> None:
        text = (BENCH / "dags" / SCALE_FILE).read_text()
        self.stack.dags.joinpath(SCALE_FILE).write_text(text.replace("COUNT = 10\n", f"COUNT = {count}\n", 1))

    def reserialize(self) -> float:
        started = time.monotonic()
        self.stack.airflow("dags", "reserialize", timeout=3600)
        return time.monotonic() - started

    def serialize_file(self, path: Path) -> float:
        """Serialize one DAG file; return the wall-clock time its serialized DAG was committed.

        ``min_serialized_dag_update_interval`` (30 s) is lifted for this one command: Airflow
        would otherwise skip writing a DAG changed again within 30 s of its last serialization,
        and the benchmark measures the plugin's delay, not that one.
        """
        env = {**self.stack.env, "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "0"}
        done = subprocess.run([sys.executable, str(BENCH / "serialize_one.py"), str(path)], env=env,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"serializing {path} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])["committed_at"]

    # -- HTTP ------------------------------------------------------------------------------------

    def token(self) -> str:
        """A JWT from ``POST /auth/token``, as a script calling Airflow's REST API gets one."""
        if self._token is None:
            body = json.dumps({"username": REST_USER[0], "password": REST_USER[1]}).encode()
            req = urllib.request.Request(f"{self.url}/auth/token", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as response:
                self._token = json.loads(response.read())["access_token"]
        return self._token

    def send(self, method: str, path: str, body: bytes | None = None, *, auth: bool = False,
             timeout: float = 30) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        req = urllib.request.Request(f"{self.url}{path}", data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def count_runs(self, dag_id: str) -> int:
        status, body = self.send("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=1", auth=True, timeout=120)
        if status != 200:
            raise RuntimeError(f"counting runs of {dag_id}: {status} {body[:300]!r}")
        return json.loads(body)["total_entries"]

    def drain(self, probe_path: str, timeout: float = 180) -> float:
        """Wait until the server answers quickly again (3 probes in a row under 0.25 s each).

        On SQLite, requests can stay stuck behind the database's write lock after the client
        gave up on them; the next measurement must not pay for them. Returns seconds waited.
        """
        started = time.monotonic()
        fast = 0
        while fast < 3 and time.monotonic() - started < timeout:
            t0 = time.monotonic()
            try:
                self.send("POST", probe_path, b"{}", timeout=10)
                self.send("GET", "/api/v2/monitor/health", timeout=10)
            except OSError:
                fast = 0
                continue
            fast = fast + 1 if time.monotonic() - t0 < 0.25 else 0
            time.sleep(0.1)
        return time.monotonic() - started

    # -- the process tree -----------------------------------------------------------------------

    def processes(self) -> list[psutil.Process]:
        root = psutil.Process(self.stack.processes["api-server"].pid)
        return [root, *root.children(recursive=True)]

    def rss_mb(self) -> float:
        total = 0
        for proc in self.processes():
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self.processes():
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    def worker_pids(self) -> list[int]:
        """The processes that serve requests (the root itself with one worker)."""
        procs = self.processes()
        if self.workers <= 1:
            return [procs[0].pid]
        return [p.pid for p in procs[1:] if "api" in " ".join(p.cmdline()) or p.name().startswith("python")]

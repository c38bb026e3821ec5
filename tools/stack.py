"""A real Airflow on this machine, for the tests, the demo and the benchmark.

``AirflowStack`` makes a temporary AIRFLOW_HOME, migrates the database (SQLite by default, or
PostgreSQL when given a URL), serializes the DAGs of the given folders, and starts the
api-server on a free port, and a scheduler and DAG processor when runs must actually execute.
Everything it starts is stopped by ``stop()`` (or leaving the ``with`` block).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AirflowStack:
    def __init__(
        self,
        dag_folders: Iterable[Path | str],
        *,
        database_url: str | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
        progress: bool = False,
    ) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="airflow-webhook-"))
        self.dags = self.home / "dags"
        self.dags.mkdir()
        for folder in dag_folders:
            for file in Path(folder).glob("*.py"):
                shutil.copy(file, self.dags / file.name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.progress = progress
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "2",
            "AIRFLOW__WEBHOOK_TRIGGER__REFRESH_INTERVAL": "0.5",
            "AIRFLOW__WEBHOOK_TRIGGER__KEY_CACHE_SECONDS": "0",
            "PYTHONWARNINGS": "ignore",
        }
        if database_url:
            self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = database_url
        self.env.update(env or {})
        self._token: str | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if self.progress:
            print(f"[stack] {text}", flush=True)

    def airflow(self, *args: str, timeout: float = 300) -> str:
        """Run an ``airflow`` CLI command in this stack's environment; raise with its output on failure."""
        done = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def migrate(self) -> AirflowStack:
        self._say("airflow db migrate ...")
        self.airflow("db", "migrate")
        return self

    def reserialize(self) -> AirflowStack:
        self._say("airflow dags reserialize ...")
        self.airflow("dags", "reserialize")
        return self

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.home / f"{name}.log", "wb")
        self.processes[name] = subprocess.Popen(
            [AIRFLOW, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_api_server(self, timeout: float = 120) -> AirflowStack:
        self._say(f"airflow api-server on {self.url} ...")
        args = ["api-server", "--port", str(self.port), "--host", "127.0.0.1"]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        self._spawn("api-server", *args)
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.processes["api-server"]
            if proc.poll() is not None:
                raise RuntimeError(f"api-server exited with {proc.returncode}:\n{self.log('api-server')[-4000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"api-server not healthy after {timeout}s:\n{self.log('api-server')[-4000:]}")

    def start_scheduler(self) -> AirflowStack:
        self._say("airflow scheduler + dag-processor ...")
        self._spawn("scheduler", "scheduler")
        self._spawn("dag-processor", "dag-processor")
        return self

    def start(self, *, scheduler: bool = False) -> AirflowStack:
        self.migrate().reserialize().start_api_server()
        if scheduler:
            self.start_scheduler()
        return self

    def log(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.processes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        self.processes.clear()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> AirflowStack:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    # -- Airflow's own REST API ---------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            with urllib.request.urlopen(f"{self.url}/auth/token", timeout=10) as response:
                self._token = json.loads(response.read())["access_token"]
        return self._token

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call Airflow's REST API (``/api/v2/...``) as an admin; return (status, JSON)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token()}")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw.decode(errors="replace")

    def get_run(self, dag_id: str, run_id: str) -> dict | None:
        from urllib.parse import quote

        status, body = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
        return body if status == 200 else None

    def list_runs(self, dag_id: str) -> list[dict]:
        status, body = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=1000")
        assert status == 200, body
        return body["dag_runs"]

    def set_paused(self, dag_id: str, paused: bool) -> None:
        status, body = self.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": paused})
        assert status == 200, body

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 120) -> dict:
        """Wait until the run finishes (success or failed) and return it."""
        deadline = time.monotonic() + timeout
        run: dict | None = None
        while time.monotonic() < deadline:
            run = self.get_run(dag_id, run_id)
            if run and run["state"] in ("success", "failed"):
                return run
            time.sleep(0.5)
        raise TimeoutError(f"run {dag_id}/{run_id} not finished after {timeout}s: {run}\n{self.log('scheduler')[-3000:]}")

"""A real Airflow on this machine, for the tests, the demo and the benchmark.

``AirflowStack`` makes a temporary AIRFLOW_HOME, migrates the database (SQLite by default, or
PostgreSQL when given a URL), serializes the DAGs of the given folders, and starts the
api-server on a free port, and a scheduler and DAG processor when runs must actually execute.
Everything it starts is stopped by ``stop()`` (or leaving the ``with`` block).
"""

from __future__ import annotations

import json
import os
import re
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
from importlib.metadata import PackageNotFoundError, version as installed_version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
# Airflow 2 (scripts/test-airflow2): the gunicorn webserver, REST API /api/v1 with basic auth.
# AIRFLOW_VERSION (major, minor) for what differs within a line (e.g. 3.0 has no triggering_user_name).
try:
    AIRFLOW_VERSION = tuple(int(part) for part in installed_version("apache-airflow").split(".")[:2])
except PackageNotFoundError:  # imported where Airflow is not installed: nothing can start anyway
    AIRFLOW_VERSION = (3, 3)
AIRFLOW_MAJOR = AIRFLOW_VERSION[0]
AIRFLOW2_ADMIN = ("admin", "admin")


# Airflow 2 has no ``airflow.sdk``: the DAG files (written for Airflow 3) get the 2.x modules of
# the same names when copied, so one set of test DAGs serves both lines (tests/dags/README.md).
AIRFLOW2_SDK_NAMES = {"DAG": "airflow.models.dag", "dag": "airflow.decorators", "task": "airflow.decorators",
                      "Param": "airflow.models.param", "Variable": "airflow.models.variable",
                      "Asset": "airflow.datasets:Dataset"}  # module[:2.x's name for it]
_SDK_IMPORT = re.compile(r"^from airflow\.sdk import ([\w, ]+)$", re.M)


def _airflow2_imports(match: re.Match) -> str:
    names = [n.strip() for n in match.group(1).split(",") if n.strip()]
    if any(n not in AIRFLOW2_SDK_NAMES for n in names):
        return match.group(0)  # left as is: the DAG shows as an import error on Airflow 2
    targets = [AIRFLOW2_SDK_NAMES[n].partition(":") for n in names]
    return "; ".join(f"from {module} import {old + ' as ' if old else ''}{n}" for n, (module, _, old) in zip(names, targets))


def dag_source(text: str) -> str:
    """DAG source written for Airflow 3, for the installed Airflow (its ``airflow.sdk`` imports mapped on 2)."""
    return text if AIRFLOW_MAJOR >= 3 else _SDK_IMPORT.sub(_airflow2_imports, text)


def copy_dag(source: Path, target: Path) -> None:
    """Copy a DAG file into the stack's DAG folder (see ``dag_source``)."""
    if AIRFLOW_MAJOR >= 3:
        shutil.copy(source, target)
    else:
        target.write_text(dag_source(source.read_text()))


_NOTE_TRIGGER = re.compile(r"webhook trigger `([^`]*)` of namespace `([^`]*)`")


def as_airflow3_run(run: dict) -> dict:
    """A run from the REST API under Airflow 3.1+'s field names (as is on Airflow 3.1+).

    Airflow 2's ``/api/v1`` run has the same ``dag_run_id``, ``conf``, ``note``, ``state`` and
    ``run_type``; it lacks two names the tests read, filled from what Airflow 2 stores instead:
    ``run_after`` is its ``execution_date`` (a webhook run's arrival time), and
    ``triggering_user_name`` (no such column before 3.1) is the webhook identity the plugin writes
    into the run's note there, or None when the note names none. Airflow 3.0 lacks only the latter.
    """
    if AIRFLOW_VERSION >= (3, 1) or not isinstance(run, dict):
        return run
    found = _NOTE_TRIGGER.search(run.get("note") or "")
    user = f"webhook:{found.group(2)}/{found.group(1)}" if found else None
    if AIRFLOW_MAJOR >= 3:
        return {"triggering_user_name": user, **run}
    return {"run_after": run.get("execution_date"), "triggering_user_name": user, **run}


# The keys of example_dags/ (each reads a Variable: ``airflow variables set NAME value``), set as
# AIRFLOW_VAR_* in every stack so tests, the demo and the benchmark call them with these values.
EXAMPLE_DAG_KEYS = {
    "RECIPE_CURL_KEY": "cu-2Xb7Nm5Q", "RECIPE_GITHUB_KEY": "gh-8Jq2vR4wXz", "RECIPE_STRIPE_KEY": "st-4Hn8Wc2Tb",
    "RECIPE_GITLAB_KEY": "gl-Q7m3Kp9sLd", "SLACK_COMMAND_KEY": "sl-cmd-6Vt2Lp", "SLACK_EVENTS_KEY": "sl-evt-3Rw9Qn",
    "KESTRA_RECIPE_KEY": "4wjtkzwVGBM9yKnjm3yv8r", "KESTRA_YAML_KEY": "4wjtkzwVGBM9yKnjm3yv8r",
    "DEMO_MAPPING_KEY": "4wjtkzwVGBM9yKnjm3yv8r", "GRAPH_WEBHOOK_KEY": "graph-3b9e07",
    "PR_REVIEW_WEBHOOK_KEY": "pr-review-5f2c9a", "SUM_WEBHOOK_KEY": "sum-7d41be",
    "DEMO_WEBHOOK_KEY": "demo-list-key", "DEMO_KEY_PREFIX": "demo", "ASSET_RECIPE_KEY": "as-7Hc2Lq9W",
}


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
        apps: str | None = None,
        base_path: str = "",
    ) -> None:
        """``apps``: the api-server's ``--apps`` (``core``, ``execution``, ``all``; Airflow 3 only);
        None starts it without the flag (Airflow's default, ``all``)."""
        self.home = Path(tempfile.mkdtemp(prefix="airflow-webhook-"))
        self.dags = self.home / "dags"
        self.dags.mkdir()
        for folder in dag_folders:
            for file in Path(folder).glob("*.py"):
                copy_dag(file, self.dags / file.name)
        self.port = free_port()
        # base_path ("/airflow"): [api] base_url carries a path and everything is served under it
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.url = self.root_url + base_path.rstrip("/")
        self.workers = workers
        self.apps = apps
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
            # wrong-key 404s are one audit row per DAG per window (60 s by default): tests read them sooner
            "AIRFLOW__WEBHOOK_TRIGGER__WRONG_KEY_SUMMARY_SECONDS": "1",
            "PYTHONWARNINGS": "ignore",
            **{f"AIRFLOW_VAR_{name}": value for name, value in EXAMPLE_DAG_KEYS.items()},
        }
        if AIRFLOW_MAJOR < 3:
            self.env.update(self._airflow2_env())
        if database_url:
            self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = database_url
            if AIRFLOW_MAJOR < 3:  # 2.x defaults to the SequentialExecutor: one task process at a time;
                # its LocalExecutor forks a process per task: 8 slots drain a backlog of runs ~3x faster
                self.env.update({"AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__CORE__PARALLELISM": "8"})
        self.env.update(env or {})
        self._token: str | None = None

    def set_connect_args(self, args: dict[str, Any]) -> AirflowStack:
        """Pass ``args`` to the database driver's connect (``[database] sql_alchemy_connect_args``
        is an import path, so they go in a module in AIRFLOW_HOME); call before ``start()``."""
        (self.home / "stack_connect_args.py").write_text(f"CONNECT_ARGS = {args!r}\n")
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.home), self.env.get("PYTHONPATH")]))
        self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] = "stack_connect_args.CONNECT_ARGS"
        return self

    # -- lifecycle --------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if self.progress:
            print(f"[stack] {text}", flush=True)

    def airflow(self, *args: str, timeout: float = 300) -> str:
        """Run an ``airflow`` CLI command in this stack's environment; raise with its output on failure."""
        self._dag_files_for_airflow2()
        done = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done.stdout

    def migrate(self) -> AirflowStack:
        self._say("airflow db migrate ...")
        self.airflow("db", "migrate")
        if AIRFLOW_MAJOR < 3:
            self._create_airflow2_admin()
        return self

    def reserialize(self) -> AirflowStack:
        self._say("airflow dags reserialize ...")
        self.airflow("dags", "reserialize")
        return self

    def _spawn(self, name: str, *args: str) -> None:
        self._dag_files_for_airflow2()
        log = open(self.home / f"{name}.log", "wb")
        self.processes[name] = subprocess.Popen(
            [AIRFLOW, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_api_server(self, timeout: float = 120) -> AirflowStack:
        if AIRFLOW_MAJOR < 3:
            return self._start_airflow2_webserver(timeout)
        self._say(f"airflow api-server on {self.url} ...")
        args = ["api-server", "--port", str(self.port), "--host", "127.0.0.1"]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        if self.apps:
            args += ["--apps", self.apps]
        self._spawn("api-server", *args)
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 120) -> None:
        self._wait_for("api-server", self.health_url, timeout)

    def _wait_for(self, name: str, health_url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.processes[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)[-4000:]}")
            try:
                with urllib.request.urlopen(health_url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{name} not healthy after {timeout}s:\n{self.log(name)[-4000:]}")

    def start_extra_api_servers(self, *apps: str, timeout: float = 120) -> dict[str, str]:
        """More api-servers on this stack's home and database (Airflow 3), one per ``--apps`` value
        given (``core``, ``execution``, ``all``), each on a port of its own, started together;
        returns ``{apps: url}``. They are named ``api-server-<apps>`` for ``log()`` and
        ``stop_process()``, and stop with the stack."""
        urls = {}
        for value in apps:
            port = free_port()
            urls[value] = f"http://127.0.0.1:{port}"
            self._say(f"airflow api-server --apps {value} on {urls[value]} ...")
            self._spawn(f"api-server-{value}", "api-server", "--port", str(port), "--host", "127.0.0.1", "--apps", value)
        for value, url in urls.items():
            self._wait_for(f"api-server-{value}", url + self._health_path(value), timeout)
        return urls

    @staticmethod
    def _health_path(apps: str | None) -> str:
        """What each ``--apps`` serves to check its health: core (and all) the REST API's monitor,
        execution only its own ``/execution/health``."""
        return "/execution/health" if apps and "core" not in apps and "all" not in apps else "/api/v2/monitor/health"

    def start_scheduler(self) -> AirflowStack:
        self._say("airflow scheduler + dag-processor ...")
        self._spawn("scheduler", "scheduler")
        if AIRFLOW_MAJOR >= 3:  # Airflow 2's scheduler parses the DAG files itself
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

    def stop_process(self, name: str) -> None:
        """Stop one process this stack started (e.g. an extra api-server) and forget it."""
        proc = self.processes.pop(name)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

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

    # -- Airflow 2 ------------------------------------------------------------------------------------

    def _airflow2_env(self) -> dict[str, str]:
        """Airflow 2's names for the same setup: the webserver's base URL, basic auth, page size."""
        return {
            "AIRFLOW__WEBSERVER__BASE_URL": self.url,
            # the SequentialExecutor (2.x on SQLite) runs each task as `airflow tasks run` from PATH
            "PATH": f"{Path(AIRFLOW).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.basic_auth",
            "AIRFLOW__API__MAXIMUM_PAGE_LIMIT": "1000",
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "2",
            "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
            "AIRFLOW__WEBSERVER__WARN_DEPLOYMENT_EXPOSURE": "False",
            # gunicorn threads per worker (gthread), as Airflow 3's WSGI bridge has: a `wait` or a
            # slow request must not hold the worker's only thread.
            # keep-alive longer than httpx's 5 s pool expiry: else a reused idle connection races its close
            "GUNICORN_CMD_ARGS": os.environ.get("GUNICORN_CMD_ARGS", "--threads 16 --keep-alive 10"),
        }

    def _create_airflow2_admin(self) -> None:
        user, password = AIRFLOW2_ADMIN
        self._say("airflow users create ...")
        self.airflow("users", "create", "--username", user, "--password", password, "--role", "Admin",
                     "--email", "admin@example.com", "--firstname", "Ad", "--lastname", "Min")

    def _start_airflow2_webserver(self, timeout: float) -> AirflowStack:
        """``airflow webserver`` (gunicorn); kept under the name ``api-server`` for ``log()``."""
        self._say(f"airflow webserver on {self.url} ...")
        self._spawn("api-server", "webserver", "--port", str(self.port), "--hostname", "127.0.0.1",
                    "--workers", str(self.workers))
        self.wait_healthy(timeout)
        return self

    # -- what differs between Airflow lines, for version-neutral tests --------------------------------

    def write_dag(self, name: str, source: str) -> Path:
        """Write a DAG file (Airflow 3 syntax) into this stack's DAG folder; see ``dag_source``."""
        target = self.dags / name
        target.write_text(dag_source(source))
        return target

    def _dag_files_for_airflow2(self) -> None:
        """Airflow 2: map ``airflow.sdk`` imports in DAG files put into the folder after ``__init__``
        (tests copy or write some); called before every CLI command and process start."""
        if AIRFLOW_MAJOR >= 3:
            return
        for path in self.dags.rglob("*.py"):
            text = path.read_text()
            if _SDK_IMPORT.search(text):
                path.write_text(dag_source(text))

    def worker_pids(self) -> set[int]:
        """The web server's worker processes (Airflow 3: uvicorn's spawned workers; 2: gunicorn's)."""
        import psutil

        parent = psutil.Process(self.processes["api-server"].pid)
        marker = "spawn_main" if AIRFLOW_MAJOR >= 3 else "gunicorn: worker"
        return {p.pid for p in parent.children(recursive=True) if marker in " ".join(p.cmdline())}

    def process_dag_files_once(self) -> None:
        """One parsing pass that also retires DAGs whose file is gone: Airflow 3's DAG processor
        marks them stale; Airflow 2's ``dags reserialize`` rewrites ``serialized_dag`` from the
        files alone, so their serialized rows are gone (what the webhook index serves from)."""
        if AIRFLOW_MAJOR >= 3:
            self.airflow("dag-processor", "--num-runs", "1")
        else:
            self.airflow("dags", "reserialize")

    @property
    def health_url(self) -> str:
        """The web server's health check (Airflow 3: ``/api/v2/monitor/health``, or
        ``/execution/health`` for ``apps="execution"``; 2: ``/health``)."""
        return f"{self.url}{self._health_path(self.apps)}" if AIRFLOW_MAJOR >= 3 else f"{self.url}/health"

    def run_url(self, dag_id: str, run_id: str) -> str:
        """The run's page in Airflow's UI, as a webhook's answer links it."""
        from urllib.parse import quote

        if AIRFLOW_MAJOR >= 3:
            return f"{self.url}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
        return f"{self.url}/dags/{quote(dag_id, safe='')}/grid?dag_run_id={quote(run_id, safe='')}"

    # -- Airflow's own REST API ---------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            with urllib.request.urlopen(f"{self.url}/auth/token", timeout=10) as response:
                self._token = json.loads(response.read())["access_token"]
        return self._token

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call Airflow's REST API (``/api/v2/...``) as an admin; return (status, JSON)."""
        data = None if body is None else json.dumps(body).encode()
        if AIRFLOW_MAJOR < 3 and path.startswith("/api/v2/"):
            path = "/api/v1/" + path[len("/api/v2/"):]  # the same resources, paths and field names
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        if AIRFLOW_MAJOR < 3:
            import base64

            req.add_header("Authorization", "Basic " + base64.b64encode(":".join(AIRFLOW2_ADMIN).encode()).decode())
        else:
            req.add_header("Authorization", f"Bearer {self.token()}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                raw = response.read()
                status = response.status
                if AIRFLOW_MAJOR < 3 and method == "POST" and status == 200:
                    status = 201  # /api/v1 answers a create with 200, /api/v2 with 201 Created
                return status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw.decode(errors="replace")

    def get_run(self, dag_id: str, run_id: str) -> dict | None:
        from urllib.parse import quote

        status, body = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
        return as_airflow3_run(body) if status == 200 else None

    def list_runs(self, dag_id: str) -> list[dict]:
        """Every run of the DAG, oldest first (paged: the API caps ``limit`` at ``[api] maximum_page_limit``)."""
        runs: list[dict] = []
        while True:
            status, body = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100&offset={len(runs)}&order_by=id")
            assert status == 200, body
            runs.extend(as_airflow3_run(run) for run in body["dag_runs"])
            if not body["dag_runs"] or len(runs) >= body["total_entries"]:
                return runs

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

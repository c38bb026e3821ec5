"""A PostgreSQL server on this machine for the tests and the benchmark (Debian's cluster tools).

``ensure_postgres()`` starts the installed cluster if it is not running, makes the OS user a
superuser role (the socket uses peer authentication), and returns a SQLAlchemy URL for a fresh
database. Used by ``scripts/test`` (CI) and ``bench/``; it needs root, as CI and these machines have.
``PrivateCluster`` is a throwaway server of its own, for tests that stop the database.
"""

from __future__ import annotations

import getpass
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

SOCKET_DIR = "/var/run/postgresql"


def _run(*args: str, check: bool = True, user: str | None = None) -> subprocess.CompletedProcess:
    cmd = list(args)
    if user and user != getpass.getuser():
        cmd = ["su", user, "-c", " ".join(f"'{a}'" if " " in a else a for a in args)]
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def available() -> bool:
    return bool(shutil.which("pg_ctlcluster") and glob.glob("/etc/postgresql/*/main"))


def ensure_postgres() -> str:
    """Start the cluster if needed and return ``postgresql+psycopg2:///<new db>?host=...``."""
    if not available():
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    version = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob("/etc/postgresql/*/main"))[-1]
    status = _run("pg_ctlcluster", version, "main", "status", check=False)
    if status.returncode != 0:
        _run("pg_ctlcluster", version, "main", "start")
    me = getpass.getuser()
    for _ in range(50):
        if _run("pg_isready", "-h", SOCKET_DIR, check=False).returncode == 0:
            break
        time.sleep(0.2)
    exists = _run("su", "postgres", "-c", f"psql -tAc \"select 1 from pg_roles where rolname='{me}'\"", check=False)
    if exists.stdout.strip() != "1":
        _run("su", "postgres", "-c", f"psql -qc 'create role \"{me}\" superuser login'")
    name = f"airflow_{uuid.uuid4().hex[:8]}"
    _run("createdb", "-h", SOCKET_DIR, name)
    return f"postgresql+psycopg2:///{name}?host={SOCKET_DIR}"


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new database on the machine's cluster for one test (pytest skips the test when PostgreSQL
    is not installed), dropped afterwards."""
    if not available():
        import pytest  # tools/ serves the benchmark too, which has no pytest to skip with

        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    url = ensure_postgres()
    try:
        yield url
    finally:
        drop_database(url)


def drop_database(url: str) -> None:
    name = url.split("///", 1)[1].split("?", 1)[0]
    _run("dropdb", "-h", SOCKET_DIR, "--if-exists", name, check=False)


class PrivateCluster:
    """A throwaway PostgreSQL server in a temporary directory, for tests that stop and start it.

    Why not the machine's cluster: stopping that one would pull the database from under every
    other Airflow using it (the shared test stack, its scheduler, other runs). This one listens
    only on a Unix socket in its own directory, trusts local connections, and is removed by
    ``close()``. Runs the server as ``postgres`` when we are root (PostgreSQL refuses root).
    """

    def __init__(self) -> None:
        if not available():
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        version = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob("/etc/postgresql/*/main"))[-1]
        self.bin = f"/usr/lib/postgresql/{version}/bin"
        self.user = "postgres" if os.geteuid() == 0 else getpass.getuser()
        self.dir = tempfile.mkdtemp(prefix="pg-private-")
        if self.user != getpass.getuser():
            shutil.chown(self.dir, self.user, self.user)
        self.data = os.path.join(self.dir, "data")
        with socket.socket() as s:  # the port only names the socket file; nothing listens on TCP
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._as_user(f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--no-sync")
        self.start()
        self._as_user(f"{self.bin}/createdb", "-h", self.dir, "-p", str(self.port), "-U", "postgres", "airflow")
        self.url = f"postgresql+psycopg2://postgres@/airflow?host={self.dir}&port={self.port}"
        self.socket_path = os.path.join(self.dir, f".s.PGSQL.{self.port}")

    def _as_user(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.user != getpass.getuser():
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}")
        return done

    def start(self) -> None:
        options = f"-k {self.dir} -p {self.port} -c listen_addresses='' -c fsync=off -c max_connections=200"
        log = os.path.join(self.dir, "log")
        self._as_user(f"{self.bin}/pg_ctl", "-D", self.data, "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """Stop the server now (``-m fast``: open connections are cut, as when a database goes down)."""
        self._as_user(f"{self.bin}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def close(self) -> None:
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                self.stop()
            except RuntimeError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivateCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

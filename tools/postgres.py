"""A PostgreSQL server on this machine for the tests and the benchmark (Debian's cluster tools).

``ensure_postgres()`` starts the installed cluster if it is not running, makes the OS user a
superuser role (the socket uses peer authentication), and returns a SQLAlchemy URL for a fresh
database. Used by ``scripts/test`` (CI) and ``bench/``; it needs root, as CI and these machines have.
"""

from __future__ import annotations

import glob
import getpass
import os
import shutil
import subprocess
import time
import uuid

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


def drop_database(url: str) -> None:
    name = url.split("///", 1)[1].split("?", 1)[0]
    _run("dropdb", "-h", SOCKET_DIR, "--if-exists", name, check=False)

"""What the numbers were measured on: they are only comparable on the same machine and load."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib.metadata import version

import psutil

__all__ = ["describe"]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _wrk_version() -> str:
    try:
        done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
        return (done.stdout or done.stderr).splitlines()[0].strip()
    except (OSError, IndexError):
        return "unknown"


def _postgres_version() -> str | None:
    try:
        done = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=10)
        return done.stdout.strip() or None
    except OSError:
        return None


def describe() -> dict:
    load = os.getloadavg()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": psutil.cpu_count(logical=True),
        "cpu_model": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in load],
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "airflow": version("apache-airflow"),
        "airflow_webhook_trigger": version("airflow-webhook-trigger"),
        "a2wsgi": version("a2wsgi"),
        "uvicorn": version("uvicorn"),
        "postgresql": _postgres_version(),
        "load_generator": _wrk_version(),
    }

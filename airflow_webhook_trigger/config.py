"""The ``[webhook_trigger]`` section of Airflow's configuration, read in one place.

Every option can be set the usual Airflow ways: ``airflow.cfg`` or an environment variable
such as ``AIRFLOW__WEBHOOK_TRIGGER__DEFAULT_NAMESPACE``. Values are read when asked for (not
cached at import) so tests and operators can change them without re-importing the plugin.

Why a short cache: Airflow's ``conf.get`` walks environment, command, secret, file and defaults
on every call, which costs a visible share of a 404 (docs/performance.md, "Configuration"). A value is reused for at most ``CACHE_SECONDS``, and
re-read at once when its ``AIRFLOW__WEBHOOK_TRIGGER__*`` environment variable changes; after
``conf.set`` call ``clear_cache()``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

SECTION = "webhook_trigger"


@dataclass(frozen=True)
class Option:
    name: str
    default: str
    description: str


OPTIONS: tuple[Option, ...] = (
    Option("default_namespace", "default", "Namespace of a webhook whose declaration names none."),
    Option("refresh_interval", "2", "Seconds between checks for new, changed or deleted declarations."),
    Option("key_cache_seconds", "10", "How long a rendered key or secret is reused before rendering again."),
    Option("max_body_size", "1048576", "Largest request body accepted, in bytes (413 above)."),
    Option("max_part_size", "262144", "Largest multipart file kept base64-encoded in the conf, in bytes."),
    Option("wait_timeout", "60", "Default seconds a `wait: true` request waits before answering 202."),
    Option("wait_max_timeout", "600", "Largest `timeout` a declaration may ask for, in seconds."),
    Option("base_url", "", "Public URL of the Airflow UI for run links (default: [api] base_url, then the request's host)."),
    Option("retry_after", "5", "Seconds sent in Retry-After when the database is busy (503)."),
    Option("wsgi_threads", "64", "Threads serving webhook requests in each api-server worker (waits sleep in them)."),
    Option("max_concurrent_waits", "16", "`wait: true` requests waiting at once per api-server worker (503 above, no run)."),
    Option("allow_literal_keys", "True", "Accept keys that read no secret (secret(), var, conn); False: such a declaration is invalid."),
    Option("masked_headers", "", "Comma-separated header names stored as *** in runs' conf (besides Authorization, Cookie...)."),
    Option("masked_parameters", "", "Comma-separated query parameter names stored as *** in runs' conf."),
    Option("wrong_key_summary_seconds", "60", "Wrong-key 404s to a DAG are written as one audit row per this many seconds."),
)
_DEFAULTS = {option.name: option.default for option in OPTIONS}


CACHE_SECONDS = 5.0
_CACHE: dict[str, tuple[str | None, float, str]] = {}  # name -> (its env var's value, read at, value)


def get(name: str) -> str:
    """The option's value as text, falling back to its documented default."""
    env = os.environ.get(f"AIRFLOW__{SECTION.upper()}__{name.upper()}")
    now = time.monotonic()
    hit = _CACHE.get(name)
    if hit is not None and hit[0] == env and now - hit[1] < CACHE_SECONDS:
        return hit[2]
    from airflow.configuration import conf  # on first use: importing this package must not set Airflow up

    value = conf.get(SECTION, name, fallback=_DEFAULTS[name])
    _CACHE[name] = (env, now, value)
    return value


def clear_cache() -> None:
    """Forget cached values (after ``conf.set``; environment changes are noticed without it)."""
    _CACHE.clear()


def get_int(name: str) -> int:
    return int(float(get(name)))


def get_float(name: str) -> float:
    return float(get(name))


def get_bool(name: str) -> bool:
    return get(name).strip().lower() in ("true", "1", "yes", "on")


def get_names(name: str) -> frozenset[str]:
    """A comma-separated option as lower-cased names."""
    return frozenset(part.strip().lower() for part in get(name).split(",") if part.strip())

"""The ``[webhook_trigger]`` section of Airflow's configuration, read in one place.

Every option can be set the usual Airflow ways: ``airflow.cfg`` or an environment variable
such as ``AIRFLOW__WEBHOOK_TRIGGER__DEFAULT_NAMESPACE``. Values are read when asked for (not
cached at import) so tests and operators can change them without re-importing the plugin.
"""

from __future__ import annotations

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
)
_DEFAULTS = {option.name: option.default for option in OPTIONS}


def get(name: str) -> str:
    """The option's value as text, falling back to its documented default."""
    from airflow.configuration import conf

    return conf.get(SECTION, name, fallback=_DEFAULTS[name])


def get_int(name: str) -> int:
    return int(float(get(name)))


def get_float(name: str) -> float:
    return float(get(name))

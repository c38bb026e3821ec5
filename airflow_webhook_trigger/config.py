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
    type: str = "string"  # Airflow's config types: string, integer, float, boolean
    example: str | None = None
    version_added: str = "0.1.0"


OPTIONS: tuple[Option, ...] = (
    Option("default_namespace", "default", "Namespace of a webhook whose declaration names none.",
           example="company.team"),
    Option("refresh_interval", "2", "Seconds between checks for new, changed or deleted declarations.", "float"),
    Option("key_cache_seconds", "10", "How long a rendered key or secret is reused before rendering again.", "float"),
    Option("max_body_size", "1048576", "Largest request body accepted, in bytes (413 above).", "integer"),
    Option("max_stored_body_size", "26214400",
           "Largest body a `fetchType: STORE` trigger accepts, in bytes (it goes to body_store, not the conf).", "integer",
           version_added="0.2.0"),
    Option("body_store", "", "ObjectStoragePath URL where `fetchType: STORE` bodies are written "
           "(default: file://{AIRFLOW_HOME}/webhook_bodies).", example="s3://my-bucket/webhook-bodies",
           version_added="0.2.0"),
    Option("tenants", "main", "Comma-separated tenants served at /api/v1/{tenant}/executions/webhook/... "
           "(Kestra 2.x's URL; `main` is Kestra's default tenant).", example="main,acme", version_added="0.2.0"),
    Option("max_part_size", "262144", "Largest multipart file kept base64-encoded in the conf, in bytes.", "integer"),
    Option("wait_timeout", "60", "Default seconds a `wait: true` request waits before answering 202.", "float"),
    Option("wait_max_timeout", "600", "Largest `timeout` a declaration may ask for, in seconds.", "float"),
    Option("base_url", "", "Public URL of the Airflow UI for run links (default: [api] base_url, then the request's host).",
           example="https://airflow.example.com"),
    Option("retry_after", "5", "Seconds sent in Retry-After when the database is busy (503).", "integer"),
    Option("wsgi_threads", "64", "Threads serving webhook requests in each api-server worker (waits sleep in them).",
           "integer"),
    Option("max_pending_requests", "128", "Webhook requests one api-server worker admits at once (served or queued); "
           "past it a request is answered 503 with Retry-After at once.", "integer", version_added="0.2.0"),
    Option("max_active_requests", "16", "Webhook requests one api-server worker serves at once (a `wait: true` "
           "request stops counting while it waits); the next ones queue for at most max_queue_seconds.", "integer",
           version_added="0.2.0"),
    Option("max_queue_seconds", "0.5", "Seconds an admitted request may queue for one of the max_active_requests "
           "places before it is answered 503 (with Retry-After) instead of served.", "float", version_added="0.2.0"),
    Option("rate_limit_storage", "memory://", "Where rateLimit counters live, as a `limits` storage URI: memory:// "
           "(each worker counts alone), redis://host:6379/0, redis+sentinel://host:26379/service, memcached://host:11211 "
           "(shared by every worker and replica).", example="redis://redis:6379/0", version_added="0.2.0"),
    Option("rate_limit_storage_timeout", "0.5", "Seconds to connect to and wait for the rate-limit storage before "
           "accepting the delivery without its limit.", "float", version_added="0.2.0"),
    Option("max_concurrent_waits", "16", "`wait: true` requests waiting at once per api-server worker (503 above, no run).",
           "integer", version_added="0.2.0"),
    Option("allow_literal_keys", "True", "Accept keys that read no secret (secret(), var, conn); False: such a "
           "declaration is invalid.", "boolean", version_added="0.2.0"),
    Option("masked_headers", "", "Comma-separated header names stored as *** in runs' conf (besides Authorization, "
           "Cookie...).", example="x-shopify-access-token", version_added="0.2.0"),
    Option("masked_parameters", "", "Comma-separated query parameter names stored as *** in runs' conf.",
           example="token,api_key", version_added="0.2.0"),
    Option("wrong_key_summary_seconds", "60", "Wrong-key 404s to a DAG are written as one audit row per this many "
           "seconds.", "float", version_added="0.2.0"),
)
_DEFAULTS = {option.name: option.default for option in OPTIONS}


CACHE_SECONDS = 5.0
_CACHE: dict[str, tuple[str | None, float, str]] = {}  # env var name -> (its value, read at, option's value)


def get(name: str) -> str:
    """The option's value as text, falling back to its documented default."""
    return _cached(SECTION, name, _DEFAULTS[name])


def get_airflow(section: str, name: str) -> str:
    """An option of Airflow's own (e.g. ``[api] base_url``), cached as this section's are;
    ``""`` when unset."""
    return _cached(section, name, "")


def _cached(section: str, name: str, fallback: str) -> str:
    key = f"AIRFLOW__{section.upper()}__{name.upper()}"
    env = os.environ.get(key)
    now = time.monotonic()
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == env and now - hit[1] < CACHE_SECONDS:
        return hit[2]
    from airflow.configuration import conf  # on first use: importing this package must not set Airflow up

    value = conf.get(section, name, fallback=fallback)
    value = fallback if value is None else value
    _CACHE[key] = (env, now, value)
    return value


def provider_config() -> dict:
    """``OPTIONS`` as the ``config`` of this package's provider info (``get_provider_info``).

    Airflow reads a provider's ``config`` (the schema of its own ``config.yml``) into its
    configuration: the defaults then answer ``conf.get`` and ``airflow config get-value``, and
    ``airflow config list`` writes the section with each option's description.
    """
    return {SECTION: {
        "description": "Kestra-style webhooks (airflow-webhook-trigger): "
                       "/api/v1/executions/webhook/{namespace}/{dag_id}/{key} starts a DAG run.",
        "options": {option.name: {"description": option.description, "version_added": option.version_added,
                                  "type": option.type, "example": option.example, "default": option.default}
                    for option in OPTIONS},
    }}


def clear_cache() -> None:
    """Forget cached values (after ``conf.set``; environment changes are noticed without it)."""
    _CACHE.clear()


def get_int(name: str) -> int:
    return int(float(get(name)))


def get_float(name: str) -> float:
    return float(get(name))


def get_list(name: str) -> frozenset[str]:
    """A comma-separated option as a set of its non-blank items."""
    return frozenset(item.strip() for item in get(name).split(",") if item.strip())


def get_bool(name: str) -> bool:
    return get(name).strip().lower() in ("true", "1", "yes", "on")


def get_names(name: str) -> frozenset[str]:
    """A comma-separated option as lower-cased names (header and parameter names: any case)."""
    return frozenset(item.lower() for item in get_list(name))

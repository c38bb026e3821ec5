"""Airflow's ``Stats`` as the api-server configured it (``[metrics]``: StatsD, Datadog, OpenTelemetry)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["stats", "metrics_enabled"]


@lru_cache(maxsize=1)
def stats() -> Any:
    """Airflow's metrics facade of this process: ``incr(stat, tags=...)``, ``timing(stat, dt, tags=...)``.

    Airflow 3.2+ keeps it in ``airflow._shared.observability.metrics.stats`` (the one the
    api-server initializes in its lifespan from ``[metrics]``); ``airflow.stats.Stats`` is a
    deprecated shim there that points at the *task SDK's* copy, which the api-server never
    initializes. Older releases only have ``airflow.stats.Stats``. Tried in that order rather
    than by version: the module's presence is what matters.
    """
    try:
        from airflow._shared.observability.metrics import stats as module  # 3.2+

        return module
    except ImportError:  # Airflow 2.x, 3.0, 3.1
        from airflow.stats import Stats  # the facade of these releases

        return Stats


def metrics_enabled() -> bool:
    """False when ``[metrics]`` sends nothing: callers then skip building tags and names.

    Why ask: on the 204 and 404 paths, a delivery's ``Stats`` calls cost a measurable share of
    the request even when they go to Airflow's ``NoStatsLogger`` (docs/performance.md).
    """
    no_op = _no_stats_logger()
    if no_op is None:  # older releases: always call (their Stats facade decides)
        return True
    return not isinstance(stats()._get_backend(), no_op)


@lru_cache(maxsize=1)
def _no_stats_logger() -> type | None:
    """The backend class of ``stats()`` when metrics are off (Airflow 3.2+), looked up once."""
    try:
        from airflow._shared.observability.metrics.base_stats_logger import NoStatsLogger  # 3.2+
    except ImportError:
        return None
    return NoStatsLogger

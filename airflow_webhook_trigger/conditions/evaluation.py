"""Where conditions are evaluated: all must hold, and an error counts as false (Kestra's rule)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_webhook_trigger.airflow.database import is_database_unavailable
from airflow_webhook_trigger.conditions.base import Condition

__all__ = ["ConditionsResult", "evaluate", "holds_or_false"]

log = logging.getLogger("airflow_webhook_trigger.conditions")


def holds_or_false(condition: Condition, context: Mapping[str, Any]) -> tuple[bool, str]:
    """Evaluate one condition; an error counts as false and is logged (Kestra's rule)."""
    try:
        if condition.holds(context):
            return True, "true"
        return False, "false"
    except Exception as exc:  # noqa: BLE001 - any failure of a condition means "not met"
        if is_database_unavailable(exc):
            raise  # not the condition's fault: dispatch answers 503 and the sender retries
        log.info("webhook condition %s failed, counted as false: %s", condition.type_name, exc)
        return False, f"error: {exc}"


@dataclass(frozen=True)
class ConditionsResult:
    met: bool
    results: tuple[tuple[str, bool, str], ...]  # (description, holds, why) per condition, in order

    @property
    def reason(self) -> str:
        failed = [f"{d}: {why}" for d, ok, why in self.results if not ok]
        return "; ".join(failed) if failed else "all conditions met"


def evaluate(conditions: Sequence[Condition], context: Mapping[str, Any], *, stop_early: bool = True) -> ConditionsResult:
    """All conditions must hold. ``stop_early=False`` evaluates all of them (for dry runs)."""
    results = []
    for condition in conditions:
        ok, why = holds_or_false(condition, context)
        results.append((condition.describe(), ok, why))
        if not ok and stop_early:
            return ConditionsResult(False, tuple(results))
    return ConditionsResult(all(ok for _, ok, _ in results), tuple(results))

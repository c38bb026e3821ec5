"""Conditions: reading them from a declaration and evaluating them against a request.

Where a condition is evaluated: ``evaluate`` below. Each type lives in its own module
(``expression``, ``logic``, ``calendar``) and registers its names on import.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_webhook_trigger.conditions import expression, logic  # noqa: F401  (registers types)
from airflow_webhook_trigger.conditions.base import Condition, condition_class
from airflow_webhook_trigger.errors import WebhookDeclarationError

try:  # the calendar types arrive with their own module; the core works without them
    from airflow_webhook_trigger.conditions import calendar  # noqa: F401
except ImportError:  # pragma: no cover
    pass

__all__ = ["Condition", "ConditionsResult", "evaluate", "holds_or_false", "parse_conditions"]

log = logging.getLogger(__name__)


def parse_conditions(raw: Any, where: str = "conditions", *, allow_empty: bool = True) -> tuple[Condition, ...]:
    """Read a list of condition mappings; raise ``WebhookDeclarationError`` naming the field."""
    if raw is None:
        if allow_empty:
            return ()
        raise WebhookDeclarationError(where, "required: a list of conditions")
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
        raise WebhookDeclarationError(where, f"must be a list of conditions, got {type(raw).__name__}")
    if not raw and not allow_empty:
        raise WebhookDeclarationError(where, "must hold at least one condition")
    parsed = []
    for i, item in enumerate(raw):
        item_where = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise WebhookDeclarationError(item_where, "must be a mapping with a type")
        parsed.append(condition_class(item.get("type"), item_where).from_mapping(item, item_where))
    return tuple(parsed)


def holds_or_false(condition: Condition, context: Mapping[str, Any]) -> tuple[bool, str]:
    """Evaluate one condition; an error counts as false and is logged (Kestra's rule)."""
    try:
        if condition.holds(context):
            return True, "true"
        return False, "false"
    except Exception as exc:  # noqa: BLE001 - any failure of a condition means "not met"
        from airflow_webhook_trigger import _compat

        if _compat.is_database_unavailable(exc):
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

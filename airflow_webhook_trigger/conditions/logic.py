"""``OrCondition`` and ``NotCondition``: conditions made of conditions.

An error inside a nested condition makes that nested condition false (as at the top level), so
``Not`` of a failing expression is true only if the author wrote it that way on purpose:
Kestra evaluates the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_webhook_trigger.conditions.base import Condition, check_fields
from airflow_webhook_trigger.conditions.evaluation import holds_or_false
from airflow_webhook_trigger.conditions.parsing import parse_conditions


def _nested(raw: Mapping[str, Any], where: str) -> tuple[Condition, ...]:
    return parse_conditions(raw.get("conditions"), f"{where}.conditions", allow_empty=False)


def _safe_holds(condition: Condition, context: Mapping[str, Any]) -> bool:
    return holds_or_false(condition, context)[0]


class OrCondition(Condition):
    """True when any nested condition is true."""

    names = ("Or",)
    properties = ("conditions",)

    def __init__(self, conditions: tuple[Condition, ...]) -> None:
        self.conditions = conditions

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str) -> OrCondition:
        check_fields(raw, where, cls, required=("conditions",))
        return cls(_nested(raw, where))

    def holds(self, context: Mapping[str, Any]) -> bool:
        return any(_safe_holds(c, context) for c in self.conditions)

    def describe(self) -> str:
        return "OrCondition(" + " | ".join(c.describe() for c in self.conditions) + ")"


class NotCondition(Condition):
    """True when none of the nested conditions is true."""

    names = ("Not",)
    properties = ("conditions",)

    def __init__(self, conditions: tuple[Condition, ...]) -> None:
        self.conditions = conditions

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str) -> NotCondition:
        check_fields(raw, where, cls, required=("conditions",))
        return cls(_nested(raw, where))

    def holds(self, context: Mapping[str, Any]) -> bool:
        return not any(_safe_holds(c, context) for c in self.conditions)

    def describe(self) -> str:
        return "NotCondition(" + " | ".join(c.describe() for c in self.conditions) + ")"

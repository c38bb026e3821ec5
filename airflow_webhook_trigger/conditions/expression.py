"""``ExpressionCondition`` (alias ``VariableCondition``): a template that must render true."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_webhook_trigger.conditions.base import Condition, check_fields, template_field
from airflow_webhook_trigger.templating import is_true, render


class ExpressionCondition(Condition):
    """True unless ``expression`` renders blank or ``false`` (any case), as in Kestra."""

    names = ("Expression", "Variable")
    properties = ("expression",)

    def __init__(self, expression: str) -> None:
        self.expression = expression

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str) -> ExpressionCondition:
        check_fields(raw, where, cls, required=("expression",))
        return cls(template_field(raw, "expression", where))

    def holds(self, context: Mapping[str, Any]) -> bool:
        return is_true(render(self.expression, context))

    def describe(self) -> str:
        return f"ExpressionCondition {self.expression}"


class WhenCondition(Condition):
    """A trigger's ``when`` (Kestra 2.x): like ``ExpressionCondition``, and ``0`` and ``-0`` are
    false too. Not a condition type one declares: the declaration's ``when`` becomes one, so it
    is evaluated (and traced, and a render error counted false: 204) with the conditions."""

    names = ()
    properties = ("expression",)

    def __init__(self, expression: str) -> None:
        self.expression = expression

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str) -> WhenCondition:
        return cls(template_field(raw, "expression", where))

    @property
    def type_name(self) -> str:
        return "when"

    def holds(self, context: Mapping[str, Any]) -> bool:
        text = render(self.expression, context).strip()
        return is_true(text) and text not in ("0", "-0")

    def describe(self) -> str:
        return f"when {self.expression}"

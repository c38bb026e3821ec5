"""Conditions: reading them from a declaration (``parsing``) and evaluating them against a
request (``evaluation``).

Each type lives in its own module (``expression``, ``logic``, ``calendar``, ``public_holiday``)
and registers its names when imported, which this package does.
"""

from __future__ import annotations

from airflow_webhook_trigger.conditions import calendar, expression, logic, public_holiday  # noqa: F401  (register types)
from airflow_webhook_trigger.conditions.base import Condition
from airflow_webhook_trigger.conditions.evaluation import ConditionsResult, evaluate, holds_or_false
from airflow_webhook_trigger.conditions.expression import WhenCondition
from airflow_webhook_trigger.conditions.parsing import parse_conditions

__all__ = ["Condition", "ConditionsResult", "WhenCondition", "evaluate", "holds_or_false", "parse_conditions"]

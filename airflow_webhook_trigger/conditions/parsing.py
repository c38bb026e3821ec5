"""Reading a list of condition mappings into ``Condition`` objects (types looked up by name)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_webhook_trigger.conditions.base import Condition, condition_class
from airflow_webhook_trigger.errors import WebhookDeclarationError

__all__ = ["parse_conditions"]


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

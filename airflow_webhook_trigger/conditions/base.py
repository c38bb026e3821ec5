"""What every condition type shares: the registry of type names and reading fields.

Kestra has renamed its condition types over the years, and users paste YAML from every era, so
a type is found by its short name whatever the prefix: ``ExpressionCondition``,
``io.kestra.plugin.core.condition.ExpressionCondition``,
``io.kestra.core.models.conditions.types.VariableCondition`` and ``Expression`` are one type.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.templating import TemplateRenderError, check_syntax

_PREFIXES = (
    "io.kestra.plugin.core.condition.",
    "io.kestra.core.models.conditions.types.",
    "io.kestra.plugin.core.conditions.",
)
_REGISTRY: dict[str, type[Condition]] = {}
_REFUSED = {"Multiple": "conditions of type MultipleCondition are not supported"}


class Condition(ABC):
    """One condition of a webhook trigger. ``holds`` may raise: the caller counts that as false."""

    names: ClassVar[tuple[str, ...]]  # short names without the "Condition" suffix
    properties: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in getattr(cls, "names", ()):
            _REGISTRY[name] = cls

    @classmethod
    @abstractmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str) -> Condition:
        """Read and validate the declaration's mapping; raise ``WebhookDeclarationError``."""

    @abstractmethod
    def holds(self, context: Mapping[str, Any]) -> bool:
        """Whether the condition is true for this request (``context`` holds ``trigger`` etc.)."""

    @property
    def type_name(self) -> str:
        return f"{self.names[0]}Condition"

    def describe(self) -> str:
        """A one-line summary for listings and dry runs."""
        return self.type_name


def short_name(type_name: str) -> str:
    name = type_name.strip()
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name[: -len("Condition")] if name.endswith("Condition") and name != "Condition" else name


def condition_class(type_name: Any, where: str) -> type[Condition]:
    if not isinstance(type_name, str) or not type_name.strip():
        raise WebhookDeclarationError(f"{where}.type", "required: the condition's type, e.g. ExpressionCondition")
    name = short_name(type_name)
    if name in _REFUSED:
        raise WebhookDeclarationError(f"{where}.type", _REFUSED[name])
    if name not in _REGISTRY:
        known = ", ".join(sorted(f"{n}Condition" for n in _REGISTRY if n != "Variable"))
        raise WebhookDeclarationError(f"{where}.type", f"unknown condition type {type_name!r}; known: {known}")
    return _REGISTRY[name]


def check_fields(raw: Any, where: str, cls: type[Condition], required: tuple[str, ...] = ()) -> None:
    """Refuse a non-mapping, missing required properties, and unknown properties (typos)."""
    if not isinstance(raw, Mapping):
        raise WebhookDeclarationError(where, f"must be a mapping with a type, got {type(raw).__name__}")
    for name in required:
        if raw.get(name) in (None, ""):
            raise WebhookDeclarationError(f"{where}.{name}", "required")
    unknown = sorted(set(raw) - {"type", *cls.properties})
    if unknown:
        allowed = ", ".join(cls.properties)
        raise WebhookDeclarationError(
            f"{where}.{unknown[0]}", f"unknown property for {cls.names[0]}Condition (allowed: {allowed})"
        )


def template_field(raw: Mapping[str, Any], name: str, where: str, default: str | None = None) -> str | None:
    """A property that holds a template: a string whose syntax is checked now."""
    value = raw.get(name, default)
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value).lower() if isinstance(value, bool) else str(value)
    try:
        check_syntax(value)
    except TemplateRenderError as exc:
        raise WebhookDeclarationError(f"{where}.{name}", str(exc)) from None
    return value

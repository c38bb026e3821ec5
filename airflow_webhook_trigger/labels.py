"""``labels``: templates rendered per request onto the run, and listed in the 200 answer.

Kestra 2.x declares them as a mapping (``labels: {team: data, source: "{{ trigger.body.src }}"}``)
or, in its older form, as a list of ``{key, value}``; both are read here. Each value is a
template rendered with what inputs see; a label that fails to render answers 422 naming it
(``dispatch``). Airflow runs have no labels: they are shown in the run's note and carried in the
answer as Kestra carries them, ``"labels": [{"key": ..., "value": ...}]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.templating import TemplateRenderError, check_syntax, render

__all__ = ["LabelFailed", "parse_labels", "render_labels", "as_kestra"]


class LabelFailed(Exception):
    """A label's template failed to render; ``key`` names it, the message says why."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


def _template(value: Any, where: str) -> str:
    if value is None or isinstance(value, (Mapping, list, tuple)):
        raise WebhookDeclarationError(where, "must be a text template")
    text = str(value).lower() if isinstance(value, bool) else str(value)
    try:
        check_syntax(text)
    except TemplateRenderError as exc:
        raise WebhookDeclarationError(where, str(exc)) from None
    return text


def parse_labels(value: Any, where: str = "labels") -> tuple[tuple[str, str], ...]:
    """``((key, template), ...)`` from a mapping or a list of ``{key, value}``; raise if invalid."""
    if value is None:
        return ()
    if isinstance(value, Mapping):
        pairs = [(key, template, f"{where}.{key}") for key, template in value.items()]
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        pairs = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping) or set(item) != {"key", "value"}:
                raise WebhookDeclarationError(f"{where}[{i}]", "must be a mapping with exactly key and value")
            pairs.append((item["key"], item["value"], f"{where}[{i}].value"))
    else:
        raise WebhookDeclarationError(where, "must map label keys to templates (or be a list of {key, value})")
    labels, seen = [], set()
    for key, template, item_where in pairs:
        if not isinstance(key, str) or not key.strip():
            raise WebhookDeclarationError(item_where, "a label key must be non-blank text")
        if key in seen:
            raise WebhookDeclarationError(item_where, f"duplicate label key {key!r}")
        seen.add(key)
        labels.append((key, _template(template, item_where)))
    return tuple(labels)


def render_labels(labels: Sequence[tuple[str, str]], context: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Every label rendered to text, in order; raise ``LabelFailed`` naming the first that fails."""
    rendered = []
    for key, template in labels:
        try:
            rendered.append((key, render(template, context)))
        except TemplateRenderError as exc:
            raise LabelFailed(key, str(exc)) from None
    return tuple(rendered)


def as_kestra(labels: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """``[{"key": ..., "value": ...}]``, the shape of Kestra's execution labels."""
    return [{"key": key, "value": value} for key, value in labels]

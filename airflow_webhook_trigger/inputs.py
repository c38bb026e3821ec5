"""Typed inputs: a rendered input converted to the type its DAG param declares, as Kestra does.

Kestra converts each rendered webhook input to the flow input's type (text to INT, BOOLEAN,
JSON, ...; a mapping rendered for a STRING input becomes its JSON text) and answers 422 when it
cannot. Airflow params declare JSON-schema types (``Param(5, type="integer")``), read once per
DAG version by the index (``index.read_declaration``), so here a value is only converted:

- ``string``: text as is; a mapping or list as its JSON text; anything else as ``str()``
  (booleans ``true``/``false``);
- ``integer``: an integer; text holding one (``" 42 "``); a whole float (``3.0``);
- ``number``: an integer or float; text holding one (``"2.5"``); never NaN or infinity;
- ``boolean``: a boolean; text ``true``/``false`` in any case (Kestra's ``Boolean.valueOf`` reads
  any other text as false; a typo becomes 422 here instead);
- ``array`` / ``object``: a list / mapping; text holding a JSON array / object;
- ``null``: None. A list of types (``["null", "integer"]``) tries each in order; None passes
  when ``null`` is one of them. Unknown or missing types: the value as is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_webhook_trigger.templating import render_value

__all__ = ["InputNotConvertible", "convert", "render_input", "schema_types"]

KNOWN = ("string", "integer", "number", "boolean", "array", "object", "null")


class InputNotConvertible(ValueError):
    """The value cannot be given the declared type; the message says why."""


def schema_types(schema: Any) -> tuple[str, ...]:
    """The JSON-schema ``type`` of a param's schema as a tuple of known type names."""
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    kinds = (kind,) if isinstance(kind, str) else tuple(kind) if isinstance(kind, (list, tuple)) else ()
    return tuple(k for k in kinds if k in KNOWN)


def _json_text(text: str, wanted: type, name: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        raise InputNotConvertible(f"{text[:40]!r} is not a JSON {name}") from None
    if not isinstance(value, wanted):
        raise InputNotConvertible(f"{text[:40]!r} is not a JSON {name}")
    return value


def _to(kind: str, value: Any) -> Any:
    if kind == "null":
        if value is None:
            return None
        raise InputNotConvertible("is not null")
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (Mapping, list, tuple)):
            return json.dumps(value, default=str, ensure_ascii=False)
        if value is None:
            raise InputNotConvertible("is null")
        return str(value)
    if kind == "integer":
        if isinstance(value, bool):
            raise InputNotConvertible(f"{value!r} is a boolean, not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise InputNotConvertible(f"{str(value)[:40]!r} is not an integer")
    if kind == "number":
        if isinstance(value, bool):
            raise InputNotConvertible(f"{value!r} is a boolean, not a number")
        if isinstance(value, (int, float)) and math.isfinite(value):
            return value
        if isinstance(value, str):
            text = value.strip()
            try:
                return int(text)
            except ValueError:
                try:
                    number = float(text)
                except ValueError:
                    number = math.nan
                if math.isfinite(number):
                    return number
        raise InputNotConvertible(f"{str(value)[:40]!r} is not a number")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise InputNotConvertible(f"{str(value)[:40]!r} is not true or false")
    if kind == "array":
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, str):
            return _json_text(value, list, "array")
        raise InputNotConvertible(f"a {type(value).__name__} is not an array")
    # object
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        return _json_text(value, dict, "object")
    raise InputNotConvertible(f"a {type(value).__name__} is not an object")


def convert(value: Any, types: Sequence[str]) -> Any:
    """``value`` as the first of ``types`` it can be; ``types`` empty: ``value`` unchanged."""
    if not types:
        return value
    if value is None and "null" in types:
        return None
    reasons = []
    for kind in types:
        try:
            return _to(kind, value)
        except InputNotConvertible as exc:
            reasons.append(str(exc))
    raise InputNotConvertible(f"{reasons[-1]} (the param's type is {' or '.join(types)})")


def render_input(template: str, context: Mapping[str, Any], types: Sequence[str] = ()) -> Any:
    """The input rendered (``TemplateRenderError``) and converted to ``types`` (``InputNotConvertible``)."""
    return convert(render_value(template, context), types)

"""What a run's conf may hold so that every Airflow database and Airflow's own API accept it.

Why this exists: a stranger's request must not be able to break the DAG's runs page. Valid JSON
can still hold what Airflow cannot store or show: PostgreSQL's JSONB refuses ``\\u0000`` and lone
surrogates (``"\\ud800"``), the REST API and UI fail to serialize a lone surrogate or a value
nested deeper than about 250 levels (pydantic's limit) for the run *and for the DAG's run list*,
and ``1e400`` parses to infinity, which is not JSON at all. ``fits`` tells whether a value is
safe as is (the request layer then keeps an unsafe body as its exact text, losing nothing);
``scrub`` is the last guard before a run is created, for parameters and rendered inputs.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["MAX_DEPTH", "fits", "text_fits", "scrub", "finite_float"]

MAX_DEPTH = 128  # levels of nested objects/arrays; real webhook payloads use about 10
_REPLACEMENT = "\ufffd"
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")  # an escape, not an escaped backslash + "u0000"


def finite_float(text: str) -> float:
    """``parse_float`` for ``json.loads``: ``1e400`` is not a number any database stores."""
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _depth_within(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


def text_fits(text: str) -> bool:
    """A quick yes for JSON *text* whose parsed value surely ``fits``, without walking it.

    Text without any ``\\u`` escape cannot hold ``\\u0000`` or a lone surrogate once parsed (the
    text itself came from valid UTF-8 without NUL), and cannot nest deeper than it has opening
    brackets. Most webhook bodies pass this; the others get the full ``fits``. Why: the 204
    path parses every body, and ``fits`` (a dump and a walk) was a tenth of that path's own cost.
    Non-finite numbers are refused while parsing (``finite_float``), not here.
    """
    return "\\u" not in text and text.count("{") + text.count("[") <= MAX_DEPTH


def fits(value: Any) -> bool:
    """Whether ``value`` is JSON that PostgreSQL, SQLite and Airflow's REST API all accept."""
    if isinstance(value, (dict, list)) and not _depth_within(value, MAX_DEPTH):
        return False
    try:
        dumped = json.dumps(value, ensure_ascii=False, allow_nan=False)
        dumped.encode("utf-8")  # a lone surrogate fails here
    except (TypeError, ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return False
    return "\\u0000" not in dumped or _NUL_ESCAPE.search(dumped) is None


def _text(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", _REPLACEMENT)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: json.loads pairs the valid ones into one character
        value = "".join(_REPLACEMENT if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
    return value


def _scrub(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dict, list)) and depth > MAX_DEPTH:
        try:
            return _text(json.dumps(value, default=str))
        except (ValueError, RecursionError):
            return "(nested too deeply)"
    if isinstance(value, dict):
        return {_text(str(key)): _scrub(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(item, depth + 1) for item in value]
    return value


def scrub(conf: Any) -> Any:
    """``conf`` unchanged when it ``fits``; else a copy with NUL and lone surrogates replaced by
    U+FFFD, non-finite numbers by null, and anything nested deeper than ``MAX_DEPTH`` by its
    JSON text."""
    if fits(conf):
        return conf
    return _scrub(conf, 1)

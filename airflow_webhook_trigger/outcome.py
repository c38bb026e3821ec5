"""What to answer: the ``Outcome`` of a request, and the texts of the answers it can carry.

At the bottom of the package: ``dispatch`` chooses every status and builds every ``Outcome``;
the HTTP layer writes it out; ``observe`` records it. A message says what went wrong and what
the caller can do about it, prefixed with the status's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome", "NOT_FOUND", "message", "paused_text", "disabled_text"]

_LABELS = {400: "Bad Request", 401: "Unauthorized", 409: "Conflict", 413: "Payload Too Large",
           422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}


@dataclass(frozen=True)
class Outcome:
    """What to answer. ``body``: a dict or list is sent as JSON, a str as is, None as nothing."""

    status: int
    body: Any = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    reason: str = ""  # why, for logs, audit and metrics: never a key, secret or body
    dag_id: str | None = None
    trigger_id: str | None = None
    run_id: str | None = None
    duplicate: bool = False
    responded: bool = False  # answered by a ``respond`` rule: no run (respond_rules.py)
    asset_event_id: int | None = None  # an asset event was recorded instead of a run (asset_target.py)

    @property
    def outcome_name(self) -> str:
        if self.responded:
            return "responded"
        created = "asset_event" if self.asset_event_id is not None else "triggered"
        return {200: "duplicate" if self.duplicate else created}.get(self.status, str(self.status))


NOT_FOUND = Outcome(404, {"message": "Not Found: webhook not found"}, reason="webhook not found")


def message(status: int, text: str, **extra: Any) -> dict[str, Any]:
    """``{"message": "<status name>: <text>"}``, the body of every error answer."""
    return {"message": f"{_LABELS.get(status, 'Error')}: {text}", **extra}


def paused_text(dag_id: str) -> str:
    return f"DAG {dag_id!r} is paused: unpause it to accept webhook runs"


def disabled_text(trigger_id: str, dag_id: str) -> str:
    return f"webhook trigger {trigger_id!r} of DAG {dag_id!r} is disabled"

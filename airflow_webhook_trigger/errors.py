"""The exceptions DAG authors and callers of the public API can catch."""

from __future__ import annotations

__all__ = ["WebhookDeclarationError"]


class WebhookDeclarationError(ValueError):
    """A webhook declaration is invalid.

    The message starts with the path of the field at fault (``webhook[1].conditions[0].type``)
    so the DAG's import error in the Airflow UI says what to change. It never holds a key or a
    secret value: declarations hold templates, and the message quotes only field names.
    """

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)

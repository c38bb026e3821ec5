"""Finding the trigger a request's key names, in constant time per trigger, and a decoy for
unknown DAGs so that the time of a 404 does not say which DAGs exist."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from airflow_webhook_trigger.declarations import WebhookTrigger
from airflow_webhook_trigger.index import IndexedDag
from airflow_webhook_trigger.log_once import WARN_ONCE
from airflow_webhook_trigger.templating import SECRETS_CACHE, TemplateRenderError, render

__all__ = ["compare_with_decoy", "find_trigger", "key_matches"]

log = logging.getLogger("airflow_webhook_trigger.dispatch")


def key_matches(trigger: WebhookTrigger, key: str, context: dict[str, Any]) -> bool:
    """Whether ``key`` is the trigger's rendered key, compared in constant time.

    Raises ``TemplateRenderError`` when the key template does not render.
    """
    rendered = render(trigger.key, context).strip()
    return bool(rendered) and hmac.compare_digest(rendered.encode("utf-8", "surrogateescape"),
                                                  key.encode("utf-8", "surrogateescape"))


def find_trigger(entry: IndexedDag, key: str, context: dict[str, Any]) -> WebhookTrigger | None:
    """The first trigger whose key matches; every key is rendered and compared, so the time
    taken does not say which trigger (if any) matched."""
    found = None
    for trigger in entry.triggers:
        try:
            matches = key_matches(trigger, key, context)
        except TemplateRenderError as exc:  # at most once a minute: anyone can send these
            WARN_ONCE.warn(log, ("key", entry.dag_id, trigger.id),
                           "Webhook key of trigger %s of DAG %s failed to render: %s", trigger.id, entry.dag_id, exc)
            continue
        if matches and found is None:
            found = trigger
    return found


# What an unknown namespace or DAG compares the key with: a template rendered like a key that
# reads a secret (Jinja's render, a call through the secret cache), then a constant-time compare,
# so a wrong DAG costs what a known DAG with a secret() key costs and the time of a 404 does not
# say which DAGs exist (measured: docs/security.md, "Timing").
_DECOY_KEY = "{{ decoy(flow.id) }}"
_DECOY_VALUE = "x" * 32


def _decoy(name: str) -> str:
    return SECRETS_CACHE.get("decoy", "key", lambda _name: _DECOY_VALUE)  # as secret() reads one


# the same loop, render and compare as a known DAG with one trigger
_DECOY_ENTRY = IndexedDag(dag_id="", namespace="", triggers=(WebhookTrigger(key=_DECOY_KEY, id="decoy"),))


def compare_with_decoy(key: str, context: dict[str, Any]) -> None:
    """Render and compare ``key`` as a known DAG with one ``secret()`` key would, and match nothing."""
    context["decoy"] = _decoy
    find_trigger(_DECOY_ENTRY, key, context)

"""What the Webhooks page shows a given user: their webhooks, invalid declarations, deliveries.

The declarations come from this api-server's index (``index.py``) through ``listing.py``, the
same listing the CLI prints, so the page and ``airflow-webhooks list`` never disagree. Each is
then filtered by the user's permissions (``airflow/ui_auth.py``). Keys never leave this module masked
except through ``reveal_url``, which re-checks the right to trigger the DAG every time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from airflow_webhook_trigger.airflow import ui_auth as auth
from airflow_webhook_trigger.declarations import WebhookTrigger
from airflow_webhook_trigger.index import WebhookIndex, get_index
from airflow_webhook_trigger.listing import list_webhooks
from airflow_webhook_trigger.templating import TemplateRenderError, flow_context, render
from airflow_webhook_trigger.ui.deliveries import DEFAULT_LIMIT, Delivery, recent_deliveries
from airflow_webhook_trigger.urls import webhook_url

__all__ = ["InvalidRow", "Page", "RevealRefused", "WebhookRow", "build_page", "reveal_url"]


@dataclass
class WebhookRow:
    namespace: str
    dag_id: str
    trigger_id: str
    url: str  # key masked
    conditions: list[str]
    signature: str | None
    rate_limit: str | None
    wait: str | None
    description: str | None
    disabled: bool
    paused: bool
    can_reveal: bool
    deliveries: list[Delivery] = field(default_factory=list)
    asset: str | None = None  # a delivery records an event on this asset instead of starting the DAG
    literal_key: bool = False  # the key reads no secret: anyone who can read the DAG has it

    @property
    def state(self) -> str:
        return "disabled" if self.disabled else "paused" if self.paused else "active"


@dataclass(frozen=True)
class InvalidRow:
    dag_id: str
    fileloc: str | None
    reason: str


@dataclass
class Page:
    rows: list[WebhookRow]
    invalid: list[InvalidRow]
    deliveries: list[Delivery] | None  # None: the user may not read the audit log
    dag_id: str | None = None  # the page shows one DAG only (the DAG's "Webhooks" tab)
    index_error: str | None = None


class RevealRefused(Exception):
    """The URL with its key cannot be given; ``status`` and a message saying what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def describe_signature(trigger: WebhookTrigger) -> str | None:
    spec = trigger.signature
    if spec is None:
        return None
    if spec.type != "hmac":
        return spec.type
    return f"hmac {spec.algorithm} ({spec.header})"


def _trigger(index: WebhookIndex, namespace: str, dag_id: str, trigger_id: str) -> WebhookTrigger | None:
    entry = index.lookup(namespace, dag_id)
    return next((t for t in entry.triggers if t.id == trigger_id), None) if entry else None


def build_page(user, *, base_url: str, dag_id: str | None = None, limit: int = DEFAULT_LIMIT,
               index: WebhookIndex | None = None) -> Page:
    """Everything the user may see, newest deliveries first (one query for all of them)."""
    index = index or get_index()
    listing = list_webhooks(index, base_url=base_url)
    declared = {w["dag_id"] for w in listing["webhooks"]} | {i["dag_id"] for i in listing["invalid"]}
    if dag_id is not None:
        declared &= {dag_id}
    readable = auth.readable_dag_ids(user, declared)
    triggerable = auth.triggerable_dag_ids(user, {w["dag_id"] for w in listing["webhooks"]} & readable)
    rows = []
    for item in listing["webhooks"]:
        if item["dag_id"] not in readable:
            continue
        trigger = _trigger(index, item["namespace"], item["dag_id"], item["trigger_id"])
        rows.append(WebhookRow(
            namespace=item["namespace"], dag_id=item["dag_id"], trigger_id=item["trigger_id"], url=item["url"],
            conditions=list(item["conditions"]), signature=describe_signature(trigger) if trigger else None,
            rate_limit=str(trigger.rate_limit) if trigger and trigger.rate_limit else None,
            wait=(f"waits up to {trigger.timeout:g} s" if trigger.timeout else "waits for the run")
            if trigger and trigger.wait else None,
            description=trigger.description if trigger else None,
            disabled=item["disabled"], paused=item["paused"], can_reveal=item["dag_id"] in triggerable,
            asset=item.get("asset"),
            literal_key=bool(item.get("literal_key")),
        ))
    invalid = [InvalidRow(i["dag_id"], i["fileloc"], i["reason"])
               for i in listing["invalid"] if i["dag_id"] in readable]
    deliveries = recent_deliveries(readable, limit) if auth.may_read_audit_log(user) else None
    by_webhook: dict[tuple[str, str, str | None], WebhookRow] = {(r.namespace, r.dag_id, r.trigger_id): r for r in rows}
    for delivery in deliveries or ():
        if (row := by_webhook.get(delivery.webhook)) is not None:
            row.deliveries.append(delivery)
    return Page(rows, invalid, deliveries, dag_id, index.last_error)


def reveal_url(user, namespace: str, dag_id: str, trigger_id: str, *, base_url: str,
               index: WebhookIndex | None = None) -> str:
    """The webhook's full URL with its rendered key, for a user allowed to trigger the DAG."""
    index = index or get_index()
    trigger = _trigger(index, namespace, dag_id, trigger_id)
    if trigger is None or not auth.readable_dag_ids(user, {dag_id}):
        raise RevealRefused(404, f"Not Found: no webhook {trigger_id!r} of DAG {dag_id!r} in namespace {namespace!r}")
    if not auth.may_trigger(user, dag_id):
        raise RevealRefused(403, f"Forbidden: the key starts runs of DAG {dag_id!r}, so only a user allowed "
                                 "to trigger that DAG may see it; ask an admin for that permission")
    try:
        key = render(trigger.key, flow_context(dag_id, namespace)).strip()
    except TemplateRenderError as exc:
        raise RevealRefused(422, f"Unprocessable Entity: the key of webhook {trigger_id!r} does not render "
                                 f"({exc}); fix the DAG's declaration or set the secret it names") from None
    if not key:
        raise RevealRefused(422, f"Unprocessable Entity: the key of webhook {trigger_id!r} renders empty, so "
                                 "the webhook cannot be called; fix the DAG's declaration or its secret")
    return webhook_url(base_url, namespace, dag_id, key)

"""The decision: what a request to a webhook URL gets, and the run it creates.

A request goes through these steps in order; the first that answers ends it:

1. find the trigger: DAG, namespace and rendered key must all match, else **404** (the same
   bytes whatever was wrong, so the URL reveals nothing);
2. the trigger is disabled or the DAG paused: **409**;
3. the signature, checked on the raw bytes before anything reads the body: **401**;
4. the trigger's rate limit: **429** with ``Retry-After``;
5. the body read into ``trigger.*``: **413** for a multipart file over ``max_part_size``, **400**
   for a malformed multipart body; then a ``respond`` rule whose conditions hold answers at once
   and creates no run (``responses.py``); then the conditions: **204** with no body when one is not met;
6. the inputs rendered into the conf: **422** when one fails;
7. the run is created (or found again for a redelivery): **200**; the DAG's params refusing
   the conf: **422**; the database busy or down: **503** with ``Retry-After``;
8. with ``wait``, the answer waits for the run (``waiting.py``).

Nothing here knows HTTP frameworks: ``handle`` takes a ``WebhookRequest`` and returns an
``Outcome`` that the HTTP layer writes out.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_webhook_trigger import _compat, config
from airflow_webhook_trigger.conditions import evaluate
from airflow_webhook_trigger.declarations import WEBHOOK_TYPES, WebhookTrigger
from airflow_webhook_trigger.form_data import BodyRefused
from airflow_webhook_trigger.index import IndexedDag, WebhookIndex, get_index
from airflow_webhook_trigger.request import WebhookRequest, run_conf, trigger_variables
from airflow_webhook_trigger.runs import RunRequest, create_run, make_run_id
from airflow_webhook_trigger.templating import TemplateRenderError, flow_context, render, render_value

__all__ = ["Outcome", "handle", "NOT_FOUND"]

log = logging.getLogger(__name__)


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
    responded: bool = False  # answered by a ``respond`` rule: no run (responses.py)

    @property
    def outcome_name(self) -> str:
        if self.responded:
            return "responded"
        return {200: "duplicate" if self.duplicate else "triggered"}.get(self.status, str(self.status))


NOT_FOUND = Outcome(404, {"message": "Not Found: webhook not found"}, reason="webhook not found")


def _message(status: int, text: str, **extra: Any) -> dict[str, Any]:
    label = {400: "Bad Request", 401: "Unauthorized", 409: "Conflict", 413: "Payload Too Large", 422: "Unprocessable Entity",
             429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
    return {"message": f"{label}: {text}", **extra}


def unavailable(reason: str = "the database is busy or unreachable") -> Outcome:
    retry = config.get("retry_after")
    return Outcome(503, _message(503, f"{reason}; retry later"), headers={"Retry-After": retry}, reason=reason)


def _find_trigger(entry: IndexedDag, key: str, context: dict[str, Any]) -> WebhookTrigger | None:
    """The first trigger whose rendered key equals ``key`` exactly, compared in constant time."""
    wanted = key.encode("utf-8", "surrogateescape")
    found = None
    for trigger in entry.triggers:
        try:
            rendered = render(trigger.key, context).strip()
        except TemplateRenderError as exc:
            log.warning("Webhook key of trigger %s of DAG %s failed to render: %s", trigger.id, entry.dag_id, exc)
            continue
        if rendered and hmac.compare_digest(rendered.encode("utf-8", "surrogateescape"), wanted) and found is None:
            found = trigger
    return found


def handle(request: WebhookRequest, namespace: str, flow_id: str, key: str, *, index: WebhookIndex | None = None) -> Outcome:
    """Answer one request to ``/api/v1/executions/webhook/{namespace}/{flow_id}/{key}``."""
    started = time.monotonic()
    try:
        outcome = _handle(request, namespace, flow_id, key, index)
    except Exception as exc:
        if not _compat.is_database_unavailable(exc):
            raise
        log.warning("Webhook for DAG %s answered 503, database unavailable: %s", flow_id, type(exc).__name__)
        outcome = unavailable()
        outcome = replace(outcome, dag_id=flow_id)
    from airflow_webhook_trigger import observe

    observe.delivery(request, namespace, flow_id, outcome, time.monotonic() - started)
    return outcome


def _handle(request: WebhookRequest, namespace: str, flow_id: str, key: str, index: WebhookIndex | None) -> Outcome:
    index = index or get_index()
    entry = index.lookup(namespace, flow_id)
    if entry is None:
        return NOT_FOUND
    context = flow_context(flow_id, namespace)
    trigger = _find_trigger(entry, key, context)
    if trigger is None:
        return replace(NOT_FOUND, reason="no trigger with this key", dag_id=flow_id)
    known = {"dag_id": flow_id, "trigger_id": trigger.id}

    if trigger.disabled:
        text = f"webhook trigger {trigger.id!r} of DAG {flow_id!r} is disabled"
        return Outcome(409, _message(409, text), reason="trigger disabled", **known)
    if index.is_paused(flow_id):
        text = f"DAG {flow_id!r} is paused: unpause it to accept webhook runs"
        return Outcome(409, _message(409, text), reason="DAG paused", **known)

    refused = _check_sender(trigger, request, context, known)
    if refused is not None:
        return refused

    try:
        variables = trigger_variables(request)
    except BodyRefused as exc:
        return Outcome(exc.status, _message(exc.status, str(exc)), reason=f"body refused ({exc.status})", **known)
    context["trigger"] = variables
    if trigger.respond:  # a handshake answered at once, without a run (responses.py)
        from airflow_webhook_trigger.responses import immediate_outcome

        answered = immediate_outcome(trigger.respond, context, known)
        if answered is not None:
            return answered
    result = evaluate(trigger.conditions, context)
    if not result.met:
        return Outcome(204, None, reason=f"conditions not met: {result.reason}", **known)

    conf = run_conf(variables)
    for name, template in trigger.inputs.items():
        try:
            conf[name] = render_value(template, context)
        except TemplateRenderError as exc:
            text = f"input {name!r} of webhook trigger {trigger.id!r} failed to render: {exc}"
            return Outcome(422, _message(422, text, param=name), reason=f"input {name} failed", **known)

    delivery_id = _delivery_id(trigger, request, variables, context)
    run_request = RunRequest(
        dag_id=flow_id,
        namespace=namespace,
        trigger_id=trigger.id,
        run_id=make_run_id(trigger.id, request.received_at, delivery_id),
        conf=conf,
        received_at=request.received_at,
        deduplicated=bool(delivery_id),  # as make_run_id decides
    )
    try:
        run = create_run(run_request)
    except _compat.DagNotServed as exc:
        if exc.status == 404:
            return replace(NOT_FOUND, reason="DAG gone", **known)
        return Outcome(exc.status, _message(exc.status, exc.reason), reason=exc.reason, **known)
    except _compat.ConfRefused as exc:
        text = f"the DAG's params refused the conf: {exc}"
        return Outcome(422, _message(422, text), reason="params refused the conf", **known)

    answer = {
        "id": run.run_id,
        "namespace": namespace,
        "flowId": flow_id,
        "dag_id": flow_id,
        "dag_run_id": run.run_id,
        "state": {"current": run.state.upper()},
        "trigger": {"id": trigger.id, "type": WEBHOOK_TYPES[0]},
        "url": _run_url(request, flow_id, run.run_id),
        "duplicate": not run.created,
    }
    outcome = Outcome(200, answer, reason="duplicate delivery" if not run.created else "run created",
                      run_id=run.run_id, duplicate=not run.created, **known)
    if trigger.wait:
        from airflow_webhook_trigger.waiting import wait_and_answer

        return wait_and_answer(trigger, outcome, context)
    return outcome


def _check_sender(trigger: WebhookTrigger, request: WebhookRequest, context: dict[str, Any], known: dict) -> Outcome | None:
    """Signature (401) then rate limit (429): both before the body is read or anything written."""
    if trigger.signature is not None:
        from airflow_webhook_trigger.signatures import verify_signature
        from airflow_webhook_trigger.request import Headers

        try:
            secret = render(trigger.signature.secret, context).strip()
        except TemplateRenderError as exc:
            log.warning("Signature secret of webhook trigger %s of DAG %s failed to render: %s",
                        trigger.id, known["dag_id"], exc)
            secret = ""
        headers = Headers(request.headers)
        if not secret or not verify_signature(trigger.signature, secret, request.body, headers):
            text = "the request's signature is missing, invalid or too old"
            return Outcome(401, _message(401, text), reason="signature check failed", **known)
    if trigger.rate_limit is not None:
        from airflow_webhook_trigger.rate_limits import hit

        retry_after = hit(trigger.rate_limit, (known["dag_id"], trigger.id))
        if retry_after is not None:
            text = f"webhook trigger {trigger.id!r} accepts at most {trigger.rate_limit}; retry later"
            return Outcome(429, _message(429, text), headers={"Retry-After": str(retry_after)},
                           reason="rate limited", **known)
    return None


def _delivery_id(trigger: WebhookTrigger, request: WebhookRequest, variables: dict, context: dict) -> str | None:
    """Declared ``deliveryId`` template, else the preset's own id, else ``Idempotency-Key``."""
    if trigger.delivery_id is not None:
        try:
            value = render(trigger.delivery_id, context).strip()
        except TemplateRenderError as exc:
            log.info("deliveryId of webhook trigger %s did not render (%s): no deduplication", trigger.id, exc)
            value = ""
        return value or None
    headers = variables["headers"]
    if trigger.signature is not None:
        from airflow_webhook_trigger.signatures import preset_delivery_id

        value = preset_delivery_id(trigger.signature.type, headers, variables["body"])
        if value:
            return value
    return headers.first("idempotency-key") or None


def _run_url(request: WebhookRequest, dag_id: str, run_id: str) -> str:
    base = _compat.ui_base_url() or request.host_url.rstrip("/")
    return f"{base}{_compat.run_url_path(dag_id, run_id)}"

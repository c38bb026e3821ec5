"""The decision: what a request to a webhook URL gets; every status of a delivery is chosen here.

(The HTTP layer answers only what comes before a delivery exists: 405, 503 when overloaded,
413/400 for a body too large or cut off while read, 500 for a bug.)

A request goes through these steps in order; the first that answers ends it:

1. find the trigger: tenant (when the URL has one), DAG, namespace and rendered key must all
   match, else **404** (the same bytes whatever was wrong, so the URL reveals nothing);
2. the trigger is disabled or the DAG paused: **409**;
3. the signature, checked on the raw bytes before anything reads the body: **401**;
4. the trigger's rate limit: **429** with ``Retry-After``;
5. the body read into ``trigger.*`` as its ``fetchType`` says: **413** for a body over
   ``max_body_size`` (a ``STORE`` trigger's may reach ``max_stored_body_size``) or a multipart file
   over ``max_part_size``, **400** for a malformed multipart body; then a ``respond`` rule whose
   conditions hold answers at once and creates no run (``respond_rules``); then ``when`` and the
   conditions: **204** with no body when one is not met;
6. a ``STORE`` body written to the body store (**503** when that fails); the inputs rendered and
   converted to their params' types, the labels rendered: **422** naming the one that fails (and
   the stored body deleted: only a created run keeps one);
7. the run is created (or found again for a redelivery): **200**; the DAG's params refusing
   the conf: **422**; the database busy or down: **503** with ``Retry-After``;
   a trigger with an ``asset`` records an event on it instead of a run (``asset_target``): **200**;
8. with ``wait``, at most ``max_concurrent_waits`` requests wait at once per worker (**503** +
   ``Retry-After`` before the run is created, ``wait_slots``); the answer waits for the run:
   **200**, **500** when it failed (or ``responseCode`` rendered outside 200-599), **202** when
   the wait ran out or the client went away (``waiting``), or the declared ``responseCode``.

Modules below this one return reasons (exceptions such as ``DagPaused``, results such as
``WaitResult``); this module alone turns them into statuses. ``decide`` runs steps 2-8 for one
trigger with ``Effects`` saying what it may do: the endpoint does everything, the CLI's dry run
(``airflow-webhooks test``) nothing but decide, and a ``Trace`` shows it every step.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_webhook_trigger import config, observe, waiting
from airflow_webhook_trigger.airflow.dag_runs import ConfRefused, DagGone, DagPaused
from airflow_webhook_trigger.airflow.database import is_database_unavailable
from airflow_webhook_trigger.airflow.links import asset_url_path, run_url_path, ui_base_url
from airflow_webhook_trigger.asset_target import record_event
from airflow_webhook_trigger.conditions import evaluate
from airflow_webhook_trigger.declarations import WEBHOOK_TYPES, WebhookTrigger
from airflow_webhook_trigger.delivery_ids import delivery_id
from airflow_webhook_trigger.form_data import BodyRefused, PayloadTooLarge
from airflow_webhook_trigger.index import WebhookIndex, get_index
from airflow_webhook_trigger.inputs import InputNotConvertible, render_input
from airflow_webhook_trigger.labels import LabelFailed, as_kestra, render_labels
from airflow_webhook_trigger.outcome import NOT_FOUND, Outcome, disabled_text, message, paused_text
from airflow_webhook_trigger.rate_limits import hit
from airflow_webhook_trigger.request import WebhookRequest, trigger_variables
from airflow_webhook_trigger.respond_rules import render_body, render_headers
from airflow_webhook_trigger.run_conf import run_conf
from airflow_webhook_trigger.runs import create_run, make_run_id, run_request
from airflow_webhook_trigger.sender_check import signed_by_any
from airflow_webhook_trigger.stored_bodies import body_limit, forget_body, store_body
from airflow_webhook_trigger.templating import TemplateRenderError, flow_context
from airflow_webhook_trigger.trigger_lookup import compare_with_decoy, find_trigger, key_matches
from airflow_webhook_trigger.wait_slots import WAIT_SLOTS

__all__ = ["DRY_RUN", "LIVE", "Effects", "Outcome", "NOT_FOUND", "Trace", "body_limit", "body_refused_status", "decide",
           "handle", "key_matches", "unavailable", "wait_and_answer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Effects:
    """What deciding may do besides deciding."""

    verify_signature: bool = True
    count_rate_limit: bool = True
    create_run: bool = True  # False: stop at 200 "a run would be created", with its id and conf
    wait: bool = True


LIVE = Effects()
DRY_RUN = Effects(verify_signature=False, count_rate_limit=False, create_run=False, wait=False)


@dataclass
class Trace:
    """Every step's result, for a person debugging a webhook: filled in when passed to ``decide``
    (conditions are then all evaluated, not only up to the first that fails)."""

    # the step that answered: disabled, paused, body, respond, conditions, inputs, run, asset_event
    stopped_at: str = ""
    detail: str = ""  # why it answered there (an error text)
    respond: list[tuple[int, bool, str]] = field(default_factory=list)  # (rule index, matches, why)
    rule: int | None = None  # the respond rule that answered
    response: Any = None  # its rendered body
    conditions: list[tuple[str, bool, str]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    conf: dict[str, Any] | None = None
    run_id: str | None = None
    labels: list[tuple[str, str]] = field(default_factory=list)


def unavailable(reason: str = "the database is busy or unreachable") -> Outcome:
    retry = config.get("retry_after")
    return Outcome(503, message(503, f"{reason}; retry later"), headers={"Retry-After": retry}, reason=reason)


def body_refused_status(exc: BodyRefused) -> int:
    """413 for a file over ``max_part_size``, 400 for a body that cannot be parsed."""
    return 413 if isinstance(exc, PayloadTooLarge) else 400


def handle(request: WebhookRequest, namespace: str, dag_id: str, key: str, *, index: WebhookIndex | None = None,
           tenant: str | None = None) -> Outcome:
    """Answer one request to ``/api/v1/executions/webhook/{namespace}/{dag_id}/{key}``, or to
    ``/api/v1/{tenant}/executions/webhook/...`` (``tenant`` given) for a tenant in ``tenants``."""
    started = time.monotonic()
    try:
        if tenant is not None and tenant not in config.get_list("tenants"):
            outcome = replace(NOT_FOUND, reason="unknown tenant")
        else:
            outcome = _handle(request, namespace, dag_id, key, index or get_index())
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        log.warning("Webhook for DAG %s answered 503, database unavailable: %s", dag_id, type(exc).__name__)
        outcome = replace(unavailable(), dag_id=dag_id)
    observe.delivery(request, namespace, dag_id, outcome, time.monotonic() - started)
    return outcome


def _handle(request: WebhookRequest, namespace: str, dag_id: str, key: str, index: WebhookIndex) -> Outcome:
    entry = index.lookup(namespace, dag_id)
    if entry is None:
        compare_with_decoy(key, flow_context(dag_id, namespace))
        return replace(NOT_FOUND, dag_id=None)  # the known path's replace() too: same bytes, same cost
    trigger = find_trigger(entry, key, flow_context(dag_id, namespace))
    if trigger is None:
        return replace(NOT_FOUND, reason="no trigger with this key", dag_id=dag_id)
    return decide(trigger, request, namespace, dag_id, paused=index.is_paused(dag_id), input_types=entry.input_types)


def decide(trigger: WebhookTrigger, request: WebhookRequest, namespace: str, dag_id: str, *, paused: bool,
           effects: Effects = LIVE, trace: Trace | None = None, input_types: dict | None = None) -> Outcome:
    """Steps 2-8 for the trigger whose key matched; ``input_types``: the params' JSON-schema types."""
    tracing = trace is not None
    trace = trace if tracing else Trace()
    known = {"dag_id": dag_id, "trigger_id": trigger.id}
    if trigger.disabled:
        trace.stopped_at = "disabled"
        return Outcome(409, message(409, disabled_text(trigger.id, dag_id)), reason="trigger disabled", **known)
    if paused:
        trace.stopped_at = "paused"
        return Outcome(409, message(409, paused_text(dag_id)), reason="DAG paused", **known)

    context = flow_context(dag_id, namespace)
    refused = _check_sender(trigger, request, context, known, effects)
    if refused is not None:
        return refused

    limit = config.get_int("max_body_size")
    if not trigger.stores_body and len(request.body) > limit:  # let in by another trigger's STORE limit
        trace.stopped_at = "body"
        return Outcome(413, message(413, f"the body must be at most {limit} bytes"), reason="body refused (413)", **known)
    try:
        variables = trigger_variables(request, trigger.fetch_type)
    except BodyRefused as exc:
        status = body_refused_status(exc)
        trace.stopped_at, trace.detail = "body", str(exc)
        return Outcome(status, message(status, str(exc)), reason=f"body refused ({status})", **known)
    context["trigger"] = variables
    answered = _respond(trigger, context, known, trace, tracing)
    if answered is not None:
        return answered
    result = evaluate(trigger.conditions, context, stop_early=not tracing)
    trace.conditions = list(result.results)
    if not result.met:
        trace.stopped_at = "conditions"
        return Outcome(204, None, reason=f"conditions not met: {result.reason}", **known)

    stored = None
    if trigger.stores_body and request.body:
        if effects.create_run:
            try:
                stored = store_body(dag_id, trigger.id, request)
            except Exception as exc:  # noqa: BLE001 - any storage failure: the sender retries later
                log.warning("Storing the body for webhook trigger %s of DAG %s failed: %s", trigger.id, dag_id, exc)
                return replace(unavailable("the body store failed"), **known)
        variables["uri"] = stored or "(dry run: the body would be stored here)"
    outcome = _create(trigger, request, namespace, dag_id, variables, context, known, trace, effects,
                      input_types or {})
    # A created run keeps its body, whatever its wait answered (202, 500, responseCode); none of
    # ours points at it after a 4xx/5xx or a redelivery. After an exception (the database gone
    # mid-commit) a run may exist: the body stays, an unused file being the lesser harm.
    if stored is not None and ((outcome.run_id or outcome.asset_event_id) is None or outcome.duplicate):
        forget_body(stored)
    return outcome


def _create(trigger: WebhookTrigger, request: WebhookRequest, namespace: str, dag_id: str, variables: dict,
            context: dict[str, Any], known: dict, trace: Trace, effects: Effects, input_types: dict) -> Outcome:
    """Steps 6-7: inputs (typed), labels, the run."""
    conf = run_conf(variables)
    for name, template in trigger.inputs.items():
        try:
            conf[name] = trace.inputs[name] = render_input(template, context, input_types.get(name, ()))
        except (TemplateRenderError, InputNotConvertible) as exc:
            failed = "failed to render" if isinstance(exc, TemplateRenderError) else "cannot be converted"
            trace.stopped_at, trace.detail = "inputs", f"input {name!r} {failed}: {exc}"
            text = f"input {name!r} of webhook trigger {trigger.id!r} {failed}: {exc}"
            return Outcome(422, message(422, text, param=name), reason=f"input {name} failed", **known)
    trace.conf = conf
    try:
        labels = render_labels(trigger.labels, context)
    except LabelFailed as exc:
        trace.stopped_at, trace.detail = "labels", f"label {exc.key!r} failed to render: {exc}"
        text = f"label {exc.key!r} of webhook trigger {trigger.id!r} failed to render: {exc}"
        return Outcome(422, message(422, text, label=exc.key), reason=f"label {exc.key} failed", **known)
    trace.labels = list(labels)
    if trigger.asset is not None:
        return _record_asset_event(trigger, request, namespace, dag_id, conf, variables, context, known, effects, trace,
                                   labels)

    run = run_request(dag_id, namespace, trigger.id, conf, request.received_at,
                      delivery_id(trigger, request, variables, context), labels)
    trace.run_id, trace.stopped_at = run.run_id, "run"
    if not effects.create_run:
        return Outcome(200, None, reason="a run would be created", run_id=run.run_id, **known)
    waits = trigger.wait and effects.wait
    if waits and not WAIT_SLOTS.acquire():  # before the run: a refused wait leaves nothing behind
        limit = config.get("max_concurrent_waits")
        text = f"{limit} requests already wait for their runs in this worker (max_concurrent_waits); retry later"
        return Outcome(503, message(503, text), headers={"Retry-After": config.get("retry_after")},
                       reason="too many waits", **known)
    try:
        return _create_and_answer(trigger, request, run, namespace, dag_id, context, known, labels, waits)
    finally:
        if waits:
            WAIT_SLOTS.release()


def _create_and_answer(trigger: WebhookTrigger, request: WebhookRequest, run: Any, namespace: str, dag_id: str,
                       context: dict[str, Any], known: dict, labels: Any, waits: bool) -> Outcome:
    """Step 7 (the run) and, with ``wait``, step 8."""
    try:
        created = create_run(run)
    except DagGone:
        return replace(NOT_FOUND, reason="DAG gone", **known)
    except DagPaused:
        return Outcome(409, message(409, paused_text(dag_id)), reason="DAG paused", **known)
    except ConfRefused as exc:
        text = f"the DAG's params refused the conf: {exc}"
        return Outcome(422, message(422, text), reason="params refused the conf", **known)

    answer = {
        "id": created.run_id,
        "namespace": namespace,
        "flowId": dag_id,
        "dag_id": dag_id,
        "dag_run_id": created.run_id,
        "flowRevision": created.version,
        "state": {"current": created.state.upper()},
        "trigger": {"id": trigger.id, "type": WEBHOOK_TYPES[0]},
        "labels": as_kestra(labels),
        "url": _run_url(request, dag_id, created.run_id),
        "duplicate": not created.created,
    }
    outcome = Outcome(200, answer, reason="duplicate delivery" if not created.created else "run created",
                      run_id=created.run_id, duplicate=not created.created, **known)
    if waits:
        if request.step_aside is not None:  # a wait sleeps: it must not hold a place of the runs being created
            request.step_aside()
        return wait_and_answer(trigger, outcome, context, cancel=request.client_gone)
    return outcome


def _check_sender(trigger: WebhookTrigger, request: WebhookRequest, context: dict[str, Any], known: dict,
                  effects: Effects) -> Outcome | None:
    """Signature (401) then rate limit (429): both before the body is read or anything written."""
    if trigger.signature is not None and effects.verify_signature:
        if not signed_by_any(trigger, request, context, known["dag_id"]):
            text = "the request's signature is missing, invalid or too old"
            return Outcome(401, message(401, text), reason="signature check failed", **known)
    if trigger.rate_limit is not None and effects.count_rate_limit:
        retry_after = hit(trigger.rate_limit, (known["dag_id"], trigger.id))
        if retry_after is not None:
            text = f"webhook trigger {trigger.id!r} accepts at most {trigger.rate_limit}; retry later"
            return Outcome(429, message(429, text), headers={"Retry-After": str(retry_after)},
                           reason="rate limited", **known)
    return None


def _respond(trigger: WebhookTrigger, context: dict[str, Any], known: dict, trace: Trace,
             tracing: bool) -> Outcome | None:
    """The first ``respond`` rule whose conditions all hold answers at once, with no run."""
    for i, rule in enumerate(trigger.respond):
        result = evaluate(rule.conditions, context, stop_early=not tracing)
        trace.respond.append((i, result.met, result.reason))
        if not result.met:
            continue
        trace.stopped_at, trace.rule = "respond", i
        try:
            body = trace.response = render_body(rule, context)
        except TemplateRenderError as exc:
            trace.detail = f"respond[{i}].body failed to render: {exc}"
            text = f"respond[{i}].body of webhook trigger {known.get('trigger_id')!r} failed to render: {exc}"
            return Outcome(422, message(422, text), reason=f"respond[{i}] body failed", **known)
        try:
            headers = render_headers(rule, context)
        except TemplateRenderError as exc:
            trace.detail = f"respond[{i}].headers failed to render: {exc}"
            text = f"respond[{i}].headers of webhook trigger {known.get('trigger_id')!r} failed to render: {exc}"
            return Outcome(422, message(422, text), reason=f"respond[{i}] headers failed", **known)
        content_type = "text/plain; charset=utf-8" if rule.content_type == "text/plain" else "application/json"
        if body is None:
            body = "" if rule.content_type == "text/plain" else None
        return Outcome(rule.code, body, content_type=content_type, headers=headers,
                       reason=f"answered by respond[{i}], no run", responded=True, **known)
    return None


def wait_and_answer(trigger: WebhookTrigger, created: Outcome, context: dict[str, Any], *,
                    cancel: Any = None) -> Outcome:
    """Wait for the run behind the 200 ``created`` and answer as the trigger asks (``cancel``: a
    ``threading.Event`` set when the client has gone; the wait then stops)."""
    result = waiting.wait(trigger, created.dag_id, created.run_id, context, cancel)
    state = result.state
    body = dict(created.body)
    body["state"] = {"current": (state or "unknown").upper()}
    if not result.finished:
        body["message"] = f"Accepted: the run is still {state} after {result.timeout:g} s and goes on; poll its url"
        gone = cancel is not None and cancel.is_set()
        return replace(created, status=202, body=body,
                       reason=f"client gone while waiting ({state})" if gone else f"wait timed out ({state})")
    if result.response_code_error is not None:  # never sent: a status outside 200-599 breaks clients
        body["message"] = message(500, result.response_code_error)["message"]
        return replace(created, status=500, body=body, reason="responseCode out of range")
    status = result.response_code or (500 if state == "failed" else 200)  # responseCode: whenever wait is set
    if result.outputs_error is not None:
        body["outputs"] = None
        body["message"] = f"outputs failed to render: {result.outputs_error}"
        return replace(created, status=status, body=body, reason="outputs failed to render")
    if not trigger.return_outputs:  # Kestra 2.x: the execution, with its outputs
        body["outputs"] = result.outputs
        return replace(created, status=status, body=body, reason=f"run {state}")
    if result.text_plain:
        outputs = result.outputs
        text = outputs if isinstance(outputs, str) else json.dumps(outputs, default=str)
        return replace(created, status=status, body=text, content_type="text/plain; charset=utf-8", reason=f"run {state}")
    return replace(created, status=status, body=result.outputs, reason=f"run {state}")


def _record_asset_event(trigger: WebhookTrigger, request: WebhookRequest, namespace: str, dag_id: str, conf: dict,
                        variables: dict, context: dict, known: dict, effects: Effects, trace: Trace,
                        labels: list[tuple[str, str]]) -> Outcome:
    """Step 7 for a trigger with an ``asset``: an event on the asset instead of a run (asset_target.py);
    its labels go in the event's ``extra`` and the answer, as a run's go in its note and the answer."""
    delivery = delivery_id(trigger, request, variables, context)
    correlation_id = make_run_id(trigger.id, request.received_at, delivery)
    trace.run_id, trace.stopped_at = correlation_id, "asset_event"
    if not effects.create_run:
        return Outcome(200, None, reason=f"an event on asset {trigger.asset.uri} would be recorded", **known)
    try:
        event = record_event(trigger.asset, namespace=namespace, dag_id=dag_id, trigger_id=trigger.id, conf=conf,
                             correlation_id=correlation_id, delivery_id=delivery, received_at=request.received_at,
                             labels=as_kestra(labels))
    except DagGone:
        return replace(NOT_FOUND, reason="DAG gone", **known)
    except DagPaused:
        return Outcome(409, message(409, paused_text(dag_id)), reason="DAG paused", **known)
    answer = {
        "id": correlation_id,
        "namespace": namespace,
        "flowId": dag_id,
        "dag_id": dag_id,
        "trigger": {"id": trigger.id, "type": WEBHOOK_TYPES[0]},
        "asset": event.uri,
        "asset_event_id": event.event_id,
        "labels": as_kestra(labels),
        "url": f"{_ui_base(request)}{asset_url_path(event.asset_id, event.uri)}",
        "duplicate": not event.created,
    }
    reason = f"asset event {event.event_id} on {event.uri}" + (": duplicate delivery" if not event.created else "")
    return Outcome(200, answer, reason=reason, duplicate=not event.created, asset_event_id=event.event_id, **known)


def _run_url(request: WebhookRequest, dag_id: str, run_id: str) -> str:
    return f"{_ui_base(request)}{run_url_path(dag_id, run_id)}"


def _ui_base(request: WebhookRequest) -> str:
    """Where the UI is: the configured base URL, else the host the request came to."""
    return ui_base_url() or request.host_url.rstrip("/")

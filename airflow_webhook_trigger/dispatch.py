"""The decision: what a request to a webhook URL gets, and the only place statuses are chosen.

A request goes through these steps in order; the first that answers ends it:

1. find the trigger: DAG, namespace and rendered key must all match, else **404** (the same
   bytes whatever was wrong, so the URL reveals nothing);
2. the trigger is disabled or the DAG paused: **409**;
3. the signature, checked on the raw bytes before anything reads the body: **401**;
4. the trigger's rate limit: **429** with ``Retry-After``;
5. the body read into ``trigger.*``: **413** for a multipart file over ``max_part_size``, **400**
   for a malformed multipart body; then a ``respond`` rule whose conditions hold answers at once
   and creates no run (``respond_rules``); then the conditions: **204** with no body when one is
   not met;
6. the inputs rendered into the conf: **422** when one fails;
7. the run is created (or found again for a redelivery): **200**; the DAG's params refusing
   the conf: **422**; the database busy or down: **503** with ``Retry-After``;
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

import hmac
import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_webhook_trigger import config, observe, waiting
from airflow_webhook_trigger.airflow.dag_runs import ConfRefused, DagGone, DagPaused
from airflow_webhook_trigger.airflow.database import is_database_unavailable
from airflow_webhook_trigger.airflow.links import run_url_path, ui_base_url
from airflow_webhook_trigger.conditions import evaluate
from airflow_webhook_trigger.declarations import WEBHOOK_TYPES, WebhookTrigger
from airflow_webhook_trigger.form_data import BodyRefused, PayloadTooLarge
from airflow_webhook_trigger.index import IndexedDag, WebhookIndex, get_index
from airflow_webhook_trigger.log_once import WARN_ONCE
from airflow_webhook_trigger.outcome import NOT_FOUND, Outcome, disabled_text, message, paused_text
from airflow_webhook_trigger.rate_limits import hit
from airflow_webhook_trigger.request import WebhookRequest, trigger_variables
from airflow_webhook_trigger.respond_rules import render_body
from airflow_webhook_trigger.run_conf import run_conf
from airflow_webhook_trigger.runs import create_run, run_request
from airflow_webhook_trigger.signatures import preset_delivery_id, verify_signature
from airflow_webhook_trigger.templating import SECRETS_CACHE, TemplateRenderError, flow_context, render, render_value
from airflow_webhook_trigger.wait_slots import WAIT_SLOTS

__all__ = ["DRY_RUN", "LIVE", "Effects", "Outcome", "NOT_FOUND", "Trace", "body_refused_status", "decide", "handle", "key_matches",
           "unavailable", "wait_and_answer"]

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

    stopped_at: str = ""  # the step that answered: disabled, paused, body, respond, conditions, inputs, run
    detail: str = ""  # why it answered there (an error text)
    respond: list[tuple[int, bool, str]] = field(default_factory=list)  # (rule index, matches, why)
    rule: int | None = None  # the respond rule that answered
    response: Any = None  # its rendered body
    conditions: list[tuple[str, bool, str]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    conf: dict[str, Any] | None = None
    run_id: str | None = None


def unavailable(reason: str = "the database is busy or unreachable") -> Outcome:
    retry = config.get("retry_after")
    return Outcome(503, message(503, f"{reason}; retry later"), headers={"Retry-After": retry}, reason=reason)


def body_refused_status(exc: BodyRefused) -> int:
    """413 for a file over ``max_part_size``, 400 for a body that cannot be parsed."""
    return 413 if isinstance(exc, PayloadTooLarge) else 400


def key_matches(trigger: WebhookTrigger, key: str, context: dict[str, Any]) -> bool:
    """Whether ``key`` is the trigger's rendered key, compared in constant time.

    Raises ``TemplateRenderError`` when the key template does not render.
    """
    rendered = render(trigger.key, context).strip()
    return bool(rendered) and hmac.compare_digest(rendered.encode("utf-8", "surrogateescape"),
                                                  key.encode("utf-8", "surrogateescape"))


def _find_trigger(entry: IndexedDag, key: str, context: dict[str, Any]) -> WebhookTrigger | None:
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


def _compare_with_decoy(key: str, context: dict[str, Any]) -> Outcome:
    context["decoy"] = _decoy
    _find_trigger(_DECOY_ENTRY, key, context)
    return replace(NOT_FOUND, dag_id=None)  # the known path's replace() too: same bytes, same cost


def handle(request: WebhookRequest, namespace: str, dag_id: str, key: str, *, index: WebhookIndex | None = None) -> Outcome:
    """Answer one request to ``/api/v1/executions/webhook/{namespace}/{dag_id}/{key}``."""
    started = time.monotonic()
    try:
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
        return _compare_with_decoy(key, flow_context(dag_id, namespace))
    trigger = _find_trigger(entry, key, flow_context(dag_id, namespace))
    if trigger is None:
        return replace(NOT_FOUND, reason="no trigger with this key", dag_id=dag_id)
    return decide(trigger, request, namespace, dag_id, paused=index.is_paused(dag_id))


def decide(trigger: WebhookTrigger, request: WebhookRequest, namespace: str, dag_id: str, *, paused: bool,
           effects: Effects = LIVE, trace: Trace | None = None) -> Outcome:
    """Steps 2-8 for the trigger whose key matched."""
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

    try:
        variables = trigger_variables(request)
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

    conf = run_conf(variables)
    for name, template in trigger.inputs.items():
        try:
            conf[name] = trace.inputs[name] = render_value(template, context)
        except TemplateRenderError as exc:
            trace.stopped_at, trace.detail = "inputs", f"input {name!r} failed to render: {exc}"
            text = f"input {name!r} of webhook trigger {trigger.id!r} failed to render: {exc}"
            return Outcome(422, message(422, text, param=name), reason=f"input {name} failed", **known)
    trace.conf = conf

    run = run_request(dag_id, namespace, trigger.id, conf, request.received_at,
                      _delivery_id(trigger, request, variables, context))
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
        return _create_and_answer(trigger, request, run, namespace, dag_id, context, known, waits)
    finally:
        if waits:
            WAIT_SLOTS.release()


def _create_and_answer(trigger: WebhookTrigger, request: WebhookRequest, run: Any, namespace: str, dag_id: str,
                       context: dict[str, Any], known: dict, waits: bool) -> Outcome:
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
        "state": {"current": created.state.upper()},
        "trigger": {"id": trigger.id, "type": WEBHOOK_TYPES[0]},
        "url": _run_url(request, dag_id, created.run_id),
        "duplicate": not created.created,
    }
    outcome = Outcome(200, answer, reason="duplicate delivery" if not created.created else "run created",
                      run_id=created.run_id, duplicate=not created.created, **known)
    if waits:
        return wait_and_answer(trigger, outcome, context, cancel=request.client_gone)
    return outcome


def _check_sender(trigger: WebhookTrigger, request: WebhookRequest, context: dict[str, Any], known: dict,
                  effects: Effects) -> Outcome | None:
    """Signature (401) then rate limit (429): both before the body is read or anything written."""
    if trigger.signature is not None and effects.verify_signature:
        if not _signed_by_any(trigger, request, context, known["dag_id"]):
            text = "the request's signature is missing, invalid or too old"
            return Outcome(401, message(401, text), reason="signature check failed", **known)
    if trigger.rate_limit is not None and effects.count_rate_limit:
        retry_after = hit(trigger.rate_limit, (known["dag_id"], trigger.id))
        if retry_after is not None:
            text = f"webhook trigger {trigger.id!r} accepts at most {trigger.rate_limit}; retry later"
            return Outcome(429, message(429, text), headers={"Retry-After": str(retry_after)},
                           reason="rate limited", **known)
    return None


def _signed_by_any(trigger: WebhookTrigger, request: WebhookRequest, context: dict[str, Any], dag_id: str) -> bool:
    """Whether any of the declared secrets (a list while one is rotated) signed the request.
    Every secret is tried (no early exit), so the time does not say which one matched."""
    signed = False
    for template in trigger.signature.secrets:
        try:
            secret = render(template, context).strip()
        except TemplateRenderError as exc:  # at most once a minute: anyone can send these
            WARN_ONCE.warn(log, ("secret", dag_id, trigger.id, template),
                           "Signature secret of webhook trigger %s of DAG %s failed to render: %s", trigger.id, dag_id, exc)
            continue
        if secret and verify_signature(trigger.signature, secret, request.body, request.header_map):
            signed = True
    return signed


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
        content_type = "text/plain; charset=utf-8" if rule.content_type == "text/plain" else "application/json"
        if body is None:
            body = "" if rule.content_type == "text/plain" else None
        return Outcome(rule.code, body, content_type=content_type, reason=f"answered by respond[{i}], no run",
                       responded=True, **known)
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
    status = 500 if state == "failed" else 200
    if not trigger.return_outputs:
        return replace(created, status=status, body=body, reason=f"run {state}")
    if result.outputs_error is not None:
        body["message"] = f"outputs failed to render: {result.outputs_error}"
        return replace(created, status=status, body=body, reason="outputs failed to render")
    if result.response_code_error is not None:  # never sent: a status outside 200-599 breaks clients
        body["message"] = message(500, result.response_code_error)["message"]
        return replace(created, status=500, body=body, reason="responseCode out of range")
    status = result.response_code or status
    if result.text_plain:
        outputs = result.outputs
        text = outputs if isinstance(outputs, str) else json.dumps(outputs, default=str)
        return replace(created, status=status, body=text, content_type="text/plain; charset=utf-8", reason=f"run {state}")
    return replace(created, status=status, body=result.outputs, reason=f"run {state}")


def _delivery_id(trigger: WebhookTrigger, request: WebhookRequest, variables: dict, context: dict) -> str | None:
    """Declared ``deliveryId`` template, else the preset's own id (with a signature), else
    ``Idempotency-Key`` (without one: a signed trigger does not let an unsigned header pick the run)."""
    if trigger.delivery_id is not None:
        try:
            value = render(trigger.delivery_id, context).strip()
        except TemplateRenderError as exc:
            log.info("deliveryId of webhook trigger %s did not render (%s): no deduplication", trigger.id, exc)
            value = ""
        return value or None
    headers = variables["headers"]
    if trigger.signature is not None:  # never the unsigned Idempotency-Key: anyone could choose it
        return preset_delivery_id(trigger.signature.type, headers, variables["body"]) or None
    return headers.first("idempotency-key") or None


def _run_url(request: WebhookRequest, dag_id: str, run_id: str) -> str:
    base = ui_base_url() or request.host_url.rstrip("/")
    return f"{base}{run_url_path(dag_id, run_id)}"

"""What the api-server would answer to a request, worked out without creating a run.

Why a separate walk instead of calling ``dispatch.handle``: ``handle`` stops at the first
answer and creates the run; a person debugging a webhook wants every step of every trigger
(each condition's result and why, the conf the run would get) and no side effects: no run, no
rate-limit hit, no audit entry. The steps and their order are dispatch's; the building blocks
(``trigger_variables``, ``evaluate``, ``render_value``, the run id) are the same functions.
The signature cannot be checked on a hand-made request: that is what ``send`` is for.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from airflow_webhook_trigger.conditions import evaluate
from airflow_webhook_trigger.declarations import WebhookTrigger
from airflow_webhook_trigger.form_data import BodyRefused
from airflow_webhook_trigger.request import WebhookRequest, run_conf, trigger_variables
from airflow_webhook_trigger.templating import TemplateRenderError, flow_context, render, render_value

__all__ = ["TriggerReport", "dry_run", "render_key", "trigger_problems", "how_to_fix"]


@dataclass
class TriggerReport:
    """One trigger's verdict for the request, step by step."""

    trigger_id: str
    namespace: str
    status: int  # what the api-server would answer
    verdict: str  # one line: why
    key: str = "not checked"  # "matches", "does not match", "not checked", or the render error
    state: str = "active"
    signature: str = "none declared"
    respond: list[str] = field(default_factory=list)
    conditions: list[tuple[str, bool, str]] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    conf: dict[str, Any] | None = None
    run_id: str | None = None
    response: Any = None

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["conditions"] = [{"condition": d, "holds": ok, "why": why} for d, ok, why in self.conditions]
        return data


def render_key(trigger: WebhookTrigger, dag_id: str, namespace: str) -> str:
    """The trigger's key as the api-server renders it; ``TemplateRenderError`` if it cannot."""
    return render(trigger.key, flow_context(dag_id, namespace)).strip()


def trigger_problems(trigger: WebhookTrigger, dag_id: str, namespace: str) -> list[str]:
    """What would make this trigger answer 404 or 401 to every request, with what to change."""
    problems = []
    try:
        if not render_key(trigger, dag_id, namespace):
            problems.append("key renders empty: every request gets 404; fix the key template")
    except TemplateRenderError as exc:
        problems.append(f"key does not render ({exc}): every request gets 404; {how_to_fix(exc)}")
    if trigger.signature is not None:
        try:
            secret = render(trigger.signature.secret, flow_context(dag_id, namespace)).strip()
            if not secret:
                problems.append("signature secret renders empty: every request gets 401")
        except TemplateRenderError as exc:
            problems.append(f"signature secret does not render ({exc}): every request gets 401; {how_to_fix(exc)}")
    return problems


def how_to_fix(exc: Exception) -> str:
    """What to change when a key or secret template fails to render."""
    text = str(exc)
    if text.startswith("secret ") and "is not set" in text:
        name = text.split("'")[1] if "'" in text else "NAME"
        return f"set it with `airflow variables set {name} <value>` (or your secrets backend)"
    return "fix the template in the DAG's webhook param"


def _check_state(report: TriggerReport, trigger: WebhookTrigger, dag_id: str, paused: bool) -> bool:
    if trigger.disabled:
        report.state, report.status, report.verdict = "disabled", 409, "the trigger is disabled (disabled: true)"
        return False
    if paused:
        report.state, report.status = "DAG paused", 409
        report.verdict = f"DAG {dag_id!r} is paused: unpause it (airflow dags unpause {dag_id})"
        return False
    return True


def _check_key(report: TriggerReport, trigger: WebhookTrigger, dag_id: str, namespace: str, key: str | None) -> bool:
    if key is None:
        return True
    try:
        rendered = render_key(trigger, dag_id, namespace)
    except TemplateRenderError as exc:
        report.key, report.status, report.verdict = f"does not render: {exc}", 404, "the key does not render"
        return False
    if rendered and hmac.compare_digest(rendered.encode(), key.encode()):
        report.key = "matches"
        return True
    report.key, report.status, report.verdict = "does not match", 404, "this key is not the trigger's key"
    return False


def _one(trigger: WebhookTrigger, request: WebhookRequest, dag_id: str, namespace: str, key: str | None,
         paused: bool) -> TriggerReport:
    from airflow_webhook_trigger.dispatch import _delivery_id
    from airflow_webhook_trigger.runs import make_run_id

    report = TriggerReport(trigger.id, namespace, 0, "")
    if trigger.signature is not None:
        report.signature = (f"{trigger.signature.type}: not checked in a dry run "
                            "(`airflow-webhooks send` signs a real request)")
    if not _check_key(report, trigger, dag_id, namespace, key) or not _check_state(report, trigger, dag_id, paused):
        return report
    context = flow_context(dag_id, namespace)
    try:
        variables = trigger_variables(request)
    except BodyRefused as exc:  # as dispatch answers it: 413 / 400
        report.status, report.verdict = exc.status, f"the body is refused: {exc}"
        return report
    context["trigger"] = variables
    for i, rule in enumerate(trigger.respond):
        result = evaluate(rule.conditions, context, stop_early=False)
        report.respond.append(f"respond[{i}]: {'matches' if result.met else 'no match'} ({result.reason})")
        if result.met:
            from airflow_webhook_trigger.responses import render_body

            try:
                report.response = render_body(rule, context)
            except TemplateRenderError as exc:
                report.status, report.verdict = 422, f"respond[{i}].body failed to render: {exc}"
                return report
            report.status, report.verdict = rule.code, f"answered at once by respond[{i}]; no run"
            return report
    result = evaluate(trigger.conditions, context, stop_early=False)
    report.conditions = list(result.results)
    if not result.met:
        report.status, report.verdict = 204, "conditions not met (no run; the sender gets an empty 204)"
        return report
    conf = run_conf(variables)
    for name, template in trigger.inputs.items():
        try:
            conf[name] = report.inputs[name] = render_value(template, context)
        except TemplateRenderError as exc:
            report.status, report.verdict = 422, f"input {name!r} failed to render: {exc}"
            return report
    report.conf = conf
    report.run_id = make_run_id(trigger.id, request.received_at, _delivery_id(trigger, request, variables, context))
    report.status = 200
    report.verdict = "a run would be created" + (" and the answer would wait for it" if trigger.wait else "")
    return report


def dry_run(triggers: list[tuple[str, WebhookTrigger]], request: WebhookRequest, dag_id: str, *,
            key: str | None = None, paused: bool = False) -> list[TriggerReport]:
    """A report per ``(namespace, trigger)``. With ``key``, as the api-server does: the first
    trigger whose key matches answers, and the others are only listed as not matching."""
    reports = []
    answered = False
    for namespace, trigger in triggers:
        report = _one(trigger, request, dag_id, namespace, key, paused) if not answered else TriggerReport(
            trigger.id, namespace, 0, "not reached: an earlier trigger's key matched")
        if key is not None and report.key == "matches":
            answered = True
        reports.append(report)
    return reports

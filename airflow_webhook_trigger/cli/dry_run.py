"""What the api-server would answer to a request, worked out without creating a run.

The endpoint's own decision (``dispatch.decide``) runs with ``DRY_RUN`` effects: no run, no
rate-limit hit, no audit entry; a ``Trace`` collects every step (each condition's result and
why, the conf the run would get) for every trigger a person asks about. The signature cannot be
checked on a hand-made request: that is what ``send`` is for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_webhook_trigger.declarations import WebhookTrigger
from airflow_webhook_trigger.dispatch import DRY_RUN, Outcome, Trace, decide, key_matches
from airflow_webhook_trigger.request import WebhookRequest
from airflow_webhook_trigger.templating import TemplateRenderError, flow_context, render

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
    asset: str | None = None  # the asset an event would be recorded on, instead of a run

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
        secrets = trigger.signature.secrets
        for i, template in enumerate(secrets):  # a list while one is rotated: each named by its place
            which = f"signature secret {i + 1} of {len(secrets)}" if len(secrets) > 1 else "signature secret"
            fails = "every request it signs gets 401" if len(secrets) > 1 else "every request gets 401"
            try:
                if not render(template, flow_context(dag_id, namespace)).strip():
                    problems.append(f"{which} renders empty: {fails}")
            except TemplateRenderError as exc:
                problems.append(f"{which} does not render ({exc}): {fails}; {how_to_fix(exc)}")
    return problems


def how_to_fix(exc: Exception) -> str:
    """What to change when a key or secret template fails to render."""
    text = str(exc)
    if text.startswith("secret ") and "is not set" in text:
        name = text.split("'")[1] if "'" in text else "NAME"
        return f"set it with `airflow variables set {name} <value>` (or your secrets backend)"
    return "fix the template in the DAG's webhook param"


def _verdict(outcome: Outcome, trace: Trace, trigger: WebhookTrigger, dag_id: str) -> str:
    """One line saying why the endpoint would answer ``outcome``, from the step that answered."""
    step = trace.stopped_at
    if step == "disabled":
        return "the trigger is disabled (disabled: true)"
    if step == "paused":
        return f"DAG {dag_id!r} is paused: unpause it (airflow dags unpause {dag_id})"
    if step == "body":
        return f"the body is refused: {trace.detail}"
    if step == "respond":
        return trace.detail or f"answered at once by respond[{trace.rule}]; no run"
    if step == "conditions":
        return "conditions not met (no run; the sender gets an empty 204)"
    if step in ("inputs", "labels"):
        return trace.detail
    if step == "asset_event":
        return f"an event on asset {trigger.asset.describe()} would be recorded (no run of {dag_id!r})"
    return "a run would be created" + (" and the answer would wait for it" if trigger.wait else "")


def _one(trigger: WebhookTrigger, request: WebhookRequest, dag_id: str, namespace: str, key: str | None,
         paused: bool, input_types: dict | None = None) -> TriggerReport:
    report = TriggerReport(trigger.id, namespace, 0, "")
    if trigger.signature is not None:
        report.signature = (f"{trigger.signature.type}: not checked in a dry run "
                            "(`airflow-webhooks send` signs a real request)")
    if key is not None:
        try:
            matches = key_matches(trigger, key, flow_context(dag_id, namespace))
        except TemplateRenderError as exc:
            report.key, report.status, report.verdict = f"does not render: {exc}", 404, "the key does not render"
            return report
        if not matches:
            report.key, report.status, report.verdict = "does not match", 404, "this key is not the trigger's key"
            return report
        report.key = "matches"
    trace = Trace()
    outcome = decide(trigger, request, namespace, dag_id, paused=paused, effects=DRY_RUN, trace=trace,
                     input_types=input_types)
    report.status, report.verdict = outcome.status, _verdict(outcome, trace, trigger, dag_id)
    report.state = {"disabled": "disabled", "paused": "DAG paused"}.get(trace.stopped_at, report.state)
    report.respond = [f"respond[{i}]: {'matches' if met else 'no match'} ({why})" for i, met, why in trace.respond]
    report.response = trace.response
    report.conditions = trace.conditions
    report.inputs = trace.inputs
    if trace.stopped_at in ("run", "asset_event"):
        report.conf, report.run_id = trace.conf, trace.run_id
        report.asset = trigger.asset.describe() if trigger.asset is not None else None
    return report


def dry_run(triggers: list[tuple[str, WebhookTrigger]], request: WebhookRequest, dag_id: str, *,
            key: str | None = None, paused: bool = False, input_types: dict | None = None) -> list[TriggerReport]:
    """A report per ``(namespace, trigger)``. With ``key``, as the api-server does: the first
    trigger whose key matches answers, and the others are only listed as not matching.
    ``input_types``: the DAG's params' types, so inputs are converted as the endpoint does."""
    reports = []
    answered = False
    for namespace, trigger in triggers:
        report = _one(trigger, request, dag_id, namespace, key, paused, input_types) if not answered else TriggerReport(
            trigger.id, namespace, 0, "not reached: an earlier trigger's key matched")
        if key is not None and report.key == "matches":
            answered = True
        reports.append(report)
    return reports

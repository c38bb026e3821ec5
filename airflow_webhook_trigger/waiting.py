"""``wait: true``: answer when the run ends, with its state or its outputs.

Kestra's rules, in Airflow's terms: the answer is 200 with the final run, or 500 when the run
failed; ``returnOutputs`` answers with the run's outputs only (every task's XCom
``return_value`` keyed by task id, or the declared ``outputs`` templates); ``responseCode`` and
``responseContentType`` shape that answer. A wait that runs out answers **202** with the run id
and the run goes on. With ``text/plain`` and a single ``outputs`` template the rendered text is
the whole body (Kestra wraps it in JSON, its open bug #19706), which is what provider handshakes
such as Microsoft Graph's ``validationToken`` echo need.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from airflow_webhook_trigger import _compat, config
from airflow_webhook_trigger.declarations import WebhookTrigger
from airflow_webhook_trigger.runs import wait_for_run
from airflow_webhook_trigger.templating import TemplateRenderError, render, render_value

__all__ = ["wait_and_answer"]

log = logging.getLogger(__name__)


def wait_timeout(trigger: WebhookTrigger) -> float:
    return min(trigger.timeout or config.get_float("wait_timeout"), config.get_float("wait_max_timeout"))


def wait_and_answer(trigger: WebhookTrigger, created, context: dict[str, Any]):
    """Wait for the run behind the 200 ``created`` outcome and answer as the trigger asks."""
    timeout = wait_timeout(trigger)
    state = wait_for_run(created.dag_id, created.run_id, timeout)
    body = dict(created.body)
    body["state"] = {"current": (state or "unknown").upper()}
    if state not in ("success", "failed"):
        body["message"] = f"Accepted: the run is still {state} after {timeout:g} s and goes on; poll its url"
        return replace(created, status=202, body=body, reason=f"wait timed out ({state})")
    status = 500 if state == "failed" else 200
    if not trigger.return_outputs:
        return replace(created, status=status, body=body, reason=f"run {state}")
    return _outputs_answer(trigger, created, context, state, status)


def _xcom_accessor(dag_id: str, run_id: str):
    def xcom(task_id: str, key: str = "return_value") -> Any:
        values = _compat.xcom_values(dag_id, run_id, key)
        if task_id not in values:
            raise TemplateRenderError(f"task {task_id!r} has no XCom {key!r} in run {run_id}")
        return values[task_id]

    return xcom


def _outputs_answer(trigger: WebhookTrigger, created, context: dict[str, Any], state: str, status: int):
    outputs_context = {
        **context,
        "xcom": _xcom_accessor(created.dag_id, created.run_id),
        "run": {"id": created.run_id, "state": state},
    }
    text_plain = trigger.response_content_type == "text/plain"
    try:
        if trigger.outputs is None:
            outputs: Any = _compat.return_values(created.dag_id, created.run_id)
        elif isinstance(trigger.outputs, str):
            outputs = render(trigger.outputs, outputs_context) if text_plain else render_value(trigger.outputs, outputs_context)
        else:
            outputs = {name: render_value(tpl, outputs_context) for name, tpl in trigger.outputs.items()}
    except TemplateRenderError as exc:
        log.warning("Outputs of webhook trigger %s failed to render: %s", trigger.id, exc)
        body = {**created.body, "state": {"current": state.upper()}, "message": f"outputs failed to render: {exc}"}
        return replace(created, status=status, body=body, reason="outputs failed to render")
    if trigger.response_code is not None:
        status = _response_code(trigger, outputs_context, status)
    if text_plain:
        text = outputs if isinstance(outputs, str) else json.dumps(outputs, default=str)
        return replace(created, status=status, body=text, content_type="text/plain; charset=utf-8", reason=f"run {state}")
    return replace(created, status=status, body=outputs, reason=f"run {state}")


def _response_code(trigger: WebhookTrigger, context: dict[str, Any], default: int) -> int:
    try:
        code = int(render(trigger.response_code, context).strip())
    except (TemplateRenderError, ValueError) as exc:
        log.warning("responseCode of webhook trigger %s is not a status code (%s); answering %s", trigger.id, exc, default)
        return default
    if 100 <= code <= 599:
        return code
    log.warning("responseCode of webhook trigger %s is %s, not 100-599; answering %s", trigger.id, code, default)
    return default

"""``wait: true``: wait for the run, then gather what the answer carries (state, outputs).

Kestra 2.x's rules, in Airflow's terms: ``wait`` answers with the execution and its ``outputs``
(every task's XCom ``return_value`` keyed by task id, or the declared ``outputs`` templates);
``returnOutputs`` answers with the outputs only; ``responseCode`` applies whenever ``wait`` is
set and ``responseContentType`` shapes the ``returnOutputs`` answer; a wait that runs out leaves
the run going on. With ``text/plain`` and a single ``outputs`` template the rendered text is the
whole body (Kestra wraps it in JSON, its open bug #19706), which is what provider handshakes
such as Microsoft Graph's ``validationToken`` echo need. This module returns what it found;
``dispatch`` turns it into the answer (200, 202, 500 or ``responseCode``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from airflow_webhook_trigger import config
from airflow_webhook_trigger.airflow import xcom
from airflow_webhook_trigger.declarations import WebhookTrigger
from airflow_webhook_trigger.runs import FINISHED_STATES, wait_for_run
from airflow_webhook_trigger.templating import TemplateRenderError, render, render_value

__all__ = ["WaitResult", "wait", "wait_timeout"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaitResult:
    """What a wait found: the run's last state and, once it finished, the outputs asked for."""

    state: str | None
    timeout: float
    outputs: Any = None
    outputs_error: str | None = None  # the outputs templates failed to render (why)
    response_code: int | None = None  # a rendered ``responseCode`` from 100 to 599, else None
    text_plain: bool = False  # the answer is the outputs as text

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES


def wait_timeout(trigger: WebhookTrigger) -> float:
    return min(trigger.timeout or config.get_float("wait_timeout"), config.get_float("wait_max_timeout"))


def wait(trigger: WebhookTrigger, dag_id: str, run_id: str, context: dict[str, Any]) -> WaitResult:
    """Wait for the run ``run_id``; once it finished, render its outputs and ``responseCode``."""
    timeout = wait_timeout(trigger)
    state = wait_for_run(dag_id, run_id, timeout)
    if state not in FINISHED_STATES:
        return WaitResult(state, timeout)
    outputs_context = {**context, "xcom": _xcom_accessor(dag_id, run_id), "run": {"id": run_id, "state": state}}
    text_plain = trigger.return_outputs and trigger.response_content_type == "text/plain"
    try:
        if trigger.outputs is None:
            outputs: Any = xcom.return_values(dag_id, run_id)
        elif isinstance(trigger.outputs, str):
            outputs = render(trigger.outputs, outputs_context) if text_plain else render_value(trigger.outputs, outputs_context)
        else:
            outputs = {name: render_value(tpl, outputs_context) for name, tpl in trigger.outputs.items()}
    except TemplateRenderError as exc:
        log.warning("Outputs of webhook trigger %s failed to render: %s", trigger.id, exc)
        outputs, error = None, str(exc)
    else:
        error = None
    code = _response_code(trigger, outputs_context) if trigger.response_code is not None else None
    return WaitResult(state, timeout, outputs=outputs, outputs_error=error, response_code=code, text_plain=text_plain)


def _xcom_accessor(dag_id: str, run_id: str):
    def xcom_value(task_id: str, key: str = "return_value") -> Any:
        values = xcom.xcom_values(dag_id, run_id, key)
        if task_id not in values:
            raise TemplateRenderError(f"task {task_id!r} has no XCom {key!r} in run {run_id}")
        return values[task_id]

    return xcom_value


def _response_code(trigger: WebhookTrigger, context: dict[str, Any]) -> int | None:
    """The rendered ``responseCode``; None (logged) when it is not a status code."""
    try:
        code = int(render(trigger.response_code, context).strip())
    except (TemplateRenderError, ValueError) as exc:
        log.warning("responseCode of webhook trigger %s is not a status code (%s); answering the default",
                    trigger.id, exc)
        return None
    if 100 <= code <= 599:
        return code
    log.warning("responseCode of webhook trigger %s is %s, not 100-599; answering the default", trigger.id, code)
    return None

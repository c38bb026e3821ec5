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
import threading
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
    response_code: int | None = None  # a rendered ``responseCode`` from 200 to 599, else None
    response_code_error: str | None = None  # why the rendered ``responseCode`` is not one (a 500)
    text_plain: bool = False  # the answer is the outputs as text

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES


def wait_timeout(trigger: WebhookTrigger) -> float:
    return min(trigger.timeout or config.get_float("wait_timeout"), config.get_float("wait_max_timeout"))


def wait(trigger: WebhookTrigger, dag_id: str, run_id: str, context: dict[str, Any],
         cancel: threading.Event | None = None) -> WaitResult:
    """Wait for the run ``run_id`` (until ``cancel`` is set: the client has gone); with
    ``returnOutputs``, render its outputs once it finished."""
    timeout = wait_timeout(trigger)
    state = wait_for_run(dag_id, run_id, timeout, cancel)
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
    code, code_error = _response_code(trigger, outputs_context) if trigger.response_code is not None else (None, None)
    if code_error is not None:
        log.warning("Webhook trigger %s: %s", trigger.id, code_error)
    return WaitResult(state, timeout, outputs=outputs, outputs_error=error, response_code=code, text_plain=text_plain,
                      response_code_error=code_error)


def _xcom_accessor(dag_id: str, run_id: str):
    def xcom_value(task_id: str, key: str = "return_value") -> Any:
        values = xcom.xcom_values(dag_id, run_id, key)
        if task_id not in values:
            raise TemplateRenderError(f"task {task_id!r} has no XCom {key!r} in run {run_id}")
        return values[task_id]

    return xcom_value


def _response_code(trigger: WebhookTrigger, context: dict[str, Any]) -> tuple[int | None, str | None]:
    """The rendered ``responseCode``, or why it is not a status code from 200 to 599 (never sent)."""
    try:
        text = render(trigger.response_code, context).strip()
    except TemplateRenderError as exc:
        return None, f"responseCode failed to render: {exc}"
    if not text.isdigit() or not 200 <= int(text) <= 599:
        return None, f"responseCode rendered {text[:20]!r}, not an HTTP status code from 200 to 599"
    return int(text), None

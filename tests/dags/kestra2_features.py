"""Kestra 2.x features one by one: ``when`` truthiness, labels that fail, typed inputs that
fail, a ``respond`` rule with response headers, ``wait`` answering with the run's outputs."""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

from airflow_webhook_trigger import webhook

with DAG(
    dag_id="kestra2_features",
    schedule=None,
    tags=["test", "kestra2"],
    params={
        "webhook": [
            webhook("k2-body", id="body"),
            webhook("k2-when", id="when", when="{{ trigger.parameters.go[0] }}"),
            webhook("k2-when-error", id="when_error", when="{{ trigger.body.missing.deeper }}"),
            webhook("k2-labels", id="labels", labels={"ok": "fine", "bad": "{{ trigger.body.nope.deeper }}"}),
            webhook("k2-typed", id="typed", inputs={"number": "{{ trigger.body.n }}"}),
            webhook("k2-handshake", id="handshake", respond={
                "conditions": [{"type": "ExpressionCondition",
                                "expression": "{{ 'x-hook-secret' in trigger.headers }}"}],
                "headers": {"X-Hook-Secret": "{{ trigger.headers['x-hook-secret'][0] }}"},
                "code": 200,
            }),
            webhook("k2-wait", id="wait", wait=True, timeout=120, responseCode="{{ 201 }}", labels={"w": "1"}),
            webhook("k2-ignored", id="ignored", returnOutputs=True),
        ],
        "number": Param(0, type="integer"),
    },
):

    @task
    def answer():
        return {"answer": 42}

    answer()

"""Request data is data. The condition compares the body's text with the literal
``{{ 7*7 }}``: it holds only if the body was never rendered as a template."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="endpoint_injection",
    schedule=None,
    tags=["test", "issue2"],
    params={
        "webhook": {
            "key": "injection-key",
            "namespace": "io.kestra.tests",
            "conditions": [{"type": "ExpressionCondition", "expression": "{{ trigger.body.hello == '{{ 7*7 }}' }}"}],
        }
    },
):

    @task
    def noop():
        return None

    noop()

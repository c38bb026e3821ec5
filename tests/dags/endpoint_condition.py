"""Kestra's condition test: runs only when the body's ``hello`` is ``world``."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="endpoint_condition",
    schedule=None,
    tags=["test", "issue2"],
    params={
        "webhook": {
            "key": "condition-key",
            "namespace": "io.kestra.tests",
            "conditions": [{"type": "io.kestra.plugin.core.condition.ExpressionCondition",
                            "expression": "{{ trigger.body.hello == 'world' }}"}],
        }
    },
):

    @task
    def noop():
        return None

    noop()

"""Several triggers. ``alpha`` and ``beta`` share a key (the first, alpha, wins, and its
condition decides: no fall-through to beta); ``gamma`` has its own key."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="declaration_list",
    schedule=None,
    tags=["test", "issue2"],
    params={
        "webhook": [
            {"id": "alpha", "key": "shared-key", "namespace": "io.kestra.tests",
             "conditions": [{"type": "ExpressionCondition", "expression": "{{ trigger.body.go == 'yes' }}"}]},
            {"id": "beta", "key": "shared-key", "namespace": "io.kestra.tests"},
            {"id": "gamma", "key": "gamma-key", "namespace": "io.kestra.tests"},
        ]
    },
):

    @task
    def noop():
        return None

    noop()

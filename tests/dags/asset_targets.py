"""Asset targets: a webhook whose deliveries record events on an asset that no DAG declares
(the plugin registers it), and one whose declaring DAG the tests pause."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="asset_targets",
    schedule=None,
    tags=["webhook", "test"],
    params={
        "webhook": [
            {"id": "undeclared", "key": "t-asset-undeclared", "namespace": "assets",
             "asset": {"uri": "webhook-test://nobody/declares-this/"},
             "conditions": [{"type": "ExpressionCondition", "expression": "{{ trigger.body.go | default(true) }}"}],
             "inputs": {"count": "{{ trigger.body.count | default(0) }}"}},
        ]
    },
):

    @task
    def noop():
        return None

    noop()

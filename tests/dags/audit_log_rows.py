"""Deliveries to this DAG must appear in Airflow's audit log (and never its keys).

``main`` runs when the body says ``"go": true`` (200) and answers 204 otherwise; ``off`` is a
disabled trigger (409); any other key is a 404 on a known DAG, which is recorded too.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="audit_log_rows",
    schedule=None,
    tags=["webhook", "test"],
    params={
        "webhook": [
            {
                "id": "main",
                "key": "t6-audit-KEY-must-not-leak",
                "namespace": "t6",
                "conditions": [{"type": "ExpressionCondition", "expression": "{{ trigger.body.go == true }}"}],
            },
            {"id": "off", "key": "t6-off-KEY-must-not-leak", "namespace": "t6", "disabled": True},
        ]
    },
):

    @task
    def noop():
        return None

    noop()

"""A rate-limited trigger (``rateLimit: "3/minute"``) and one for the size limits.

``sized`` only runs when the request says ``X-T4-Run``: a body at the limit is read and its
conditions evaluated (204) without storing a megabyte in a run's conf.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import validate_declaration

with DAG(
    dag_id="limits_bodies",
    schedule=None,
    tags=["webhook", "test", "t4"],
    params={
        "webhook": validate_declaration(
            [
                {"id": "rated", "key": "t4-limits-rated", "rateLimit": "3/minute"},
                {"id": "sized", "key": "t4-limits-sized", "conditions": [
                    {"type": "ExpressionCondition", "expression": "{{ 'x-t4-run' in trigger.headers }}"}]},
            ]
        )
    },
):

    @task
    def noop():
        return "ok"

    noop()

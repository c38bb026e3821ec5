"""A webhook declared as a mapping, with a condition on the request body.

    curl -X POST http://localhost:8080/api/v1/executions/webhook/demo/webhook_mapping/4wjtkzwVGBM9yKnjm3yv8r \
         -H 'Content-Type: application/json' -d '{"hello": "world"}'
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import webhook

with DAG(
    dag_id="webhook_mapping",
    schedule=None,
    tags=["webhook", "example"],
    params={
        "webhook": webhook(
            "{{ secret('DEMO_MAPPING_KEY') }}",
            namespace="demo",
            conditions=[{"type": "ExpressionCondition", "expression": "{{ trigger.body.hello == 'world' }}"}],
        )
    },
):

    @task
    def greet(params=None, dag_run=None):
        body = dag_run.conf["body"]
        print(f"Webhook said hello to {body['hello']}")
        return body["hello"]

    greet()

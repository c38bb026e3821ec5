"""``wait`` + ``returnOutputs``: the caller gets the run's result in the HTTP answer.

The request is answered when the run ends (or after ``timeout`` seconds with 202 and the run id:
the run goes on). ``outputs`` picks what the answer holds, with ``xcom(task_id, key=...)``;
``responseCode`` is a template too. Without ``outputs`` the answer would be every task's
``return_value`` keyed by task id.

    curl -X POST http://localhost:8080/api/v1/executions/webhook/demo/webhook_wait_outputs/sum-7d41be \
         -H 'Content-Type: application/json' -d '{"numbers": [1, 2, 3]}'
    # -> 201 {"total": 6, "count": 3, "run": "webhook__..."}
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import webhook

with DAG(
    dag_id="webhook_wait_outputs",
    schedule=None,
    tags=["webhook", "example"],
    params={
        "webhook": webhook(
            "{{ secret('SUM_WEBHOOK_KEY') }}",
            namespace="demo",
            wait=True,
            timeout=120,
            return_outputs=True,
            outputs={
                "total": "{{ xcom('add') }}",
                "count": "{{ xcom('add', key='count') }}",
                "run": "{{ run.id }}",
            },
            response_code="{{ 201 if xcom('add', key='count') > 0 else 200 }}",
        )
    },
):

    @task
    def add(dag_run=None, ti=None):
        numbers = (dag_run.conf.get("body") or {}).get("numbers") or []
        ti.xcom_push(key="count", value=len(numbers))
        return sum(numbers)

    add()

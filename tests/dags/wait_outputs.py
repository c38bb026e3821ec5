"""Wait, returnOutputs, outputs, responseCode, timeouts. The body steers the task."""

from __future__ import annotations

import time

from airflow.sdk import DAG, task

WAIT = {"wait": True, "timeout": 120}

with DAG(
    dag_id="wait_outputs",
    schedule=None,
    params={
        "webhook": [
            {"id": "wait", "key": "t3-wait", **WAIT},
            {"id": "outputs", "key": "t3-outputs", **WAIT, "returnOutputs": True},
            {
                "id": "mapping",
                "key": "t3-mapping",
                **WAIT,
                "returnOutputs": True,
                "outputs": {
                    "total": "{{ xcom('compute') }}",
                    "count": "{{ xcom('compute', key='count') }}",
                    "numbers": "{{ trigger.body.numbers }}",
                    "text": "{{ xcom('kinds').text }}",
                },
                "responseCode": "{{ trigger.body.code | default(200) }}",
            },
            {"id": "short", "key": "t3-short", "wait": True, "timeout": 2},
            {"id": "nowait", "key": "t3-nowait"},
        ]
    },
):

    @task
    def compute(dag_run=None, ti=None):
        body = dag_run.conf.get("body") or {}
        if body.get("fail"):
            raise ValueError("asked to fail by the webhook's body")
        time.sleep(float(body.get("sleep", 0)))
        numbers = body.get("numbers") or []
        ti.xcom_push(key="count", value=len(numbers))
        return sum(numbers)

    @task
    def kinds():
        return {"text": "42", "number": 42, "list": [1, 2], "pair": (1, 2), "flag": True, "nothing": None}

    compute()
    kinds()

"""Several triggers on one DAG, each with its own key: the first whose key matches fires.

Keys are templates: ``{{ secret('DEMO_WEBHOOK_KEY') }}`` reads the Airflow Variable
``DEMO_WEBHOOK_KEY`` through any secrets backend (``airflow variables set DEMO_WEBHOOK_KEY <key>``,
or ``AIRFLOW_VAR_DEMO_WEBHOOK_KEY``); the first adds the DAG id to another secret, so one
Variable can give every DAG its own key.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="webhook_list",
    schedule=None,
    tags=["webhook", "example"],
    params={
        "webhook": [
            {"id": "by_dag_id", "key": "{{ secret('DEMO_KEY_PREFIX') }}-{{ flow.id }}", "namespace": "demo"},
            {"id": "by_secret", "key": "{{ secret('DEMO_WEBHOOK_KEY') }}", "namespace": "demo"},
        ]
    },
):

    @task
    def show(dag_run=None):
        print("conf:", dag_run.conf)
        return dag_run.conf["parameters"]

    show()

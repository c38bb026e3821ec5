"""The key is the Airflow Variable WEBHOOK_KEY, read through ``secret()``."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="endpoint_secret_key",
    schedule=None,
    tags=["test", "issue2"],
    params={"webhook": {"key": "{{ secret('WEBHOOK_KEY') }}", "namespace": "io.kestra.tests"}},
):

    @task
    def noop():
        return None

    noop()

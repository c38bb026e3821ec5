"""The key is ``{{ flow.id }}``, so the URL is .../endpoint_dynamic_key/endpoint_dynamic_key."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="endpoint_dynamic_key",
    schedule=None,
    tags=["test", "issue2"],
    params={"webhook": {"key": "{{ flow.id }}", "namespace": "io.kestra.tests"}},
):

    @task
    def noop():
        return None

    noop()

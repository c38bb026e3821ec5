"""Issue 2: the key is ``{{ flow.id }}``, so the URL is .../t2_webhook_dynamic_key/t2_webhook_dynamic_key."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="t2_webhook_dynamic_key",
    schedule=None,
    tags=["test", "issue2"],
    params={"webhook": {"key": "{{ flow.id }}", "namespace": "io.kestra.tests"}},
):

    @task
    def noop():
        return None

    noop()

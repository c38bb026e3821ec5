"""No namespace in the declaration: served under [webhook_trigger] default_namespace."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="endpoint_default_namespace",
    schedule=None,
    tags=["test", "issue2"],
    params={"webhook": {"key": "default-namespace-key"}},
):

    @task
    def noop():
        return None

    noop()

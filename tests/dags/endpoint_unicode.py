"""A namespace and a key beyond ASCII, sent URL-encoded."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="endpoint_unicode",
    schedule=None,
    tags=["test", "issue2"],
    params={"webhook": {"key": "clé-🔑", "namespace": "équipe.données"}},
):

    @task
    def noop():
        return None

    noop()

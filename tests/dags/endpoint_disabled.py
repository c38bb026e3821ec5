"""A disabled trigger answers 409."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="endpoint_disabled",
    schedule=None,
    tags=["test", "issue2"],
    params={"webhook": {"key": "disabled-key", "namespace": "io.kestra.tests", "disabled": True}},
):

    @task
    def noop():
        return None

    noop()

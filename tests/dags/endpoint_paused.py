"""Paused by the test, then it answers 409; unpaused again afterwards."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="endpoint_paused",
    schedule=None,
    tags=["test", "issue2"],
    params={"webhook": {"key": "paused-key", "namespace": "io.kestra.tests"}},
):

    @task
    def noop():
        return None

    noop()

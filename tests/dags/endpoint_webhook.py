"""Kestra's own webhook test flow (namespace io.kestra.tests, a constant key)."""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import webhook

with DAG(
    dag_id="endpoint_webhook",
    schedule=None,
    tags=["test", "issue2"],
    params={"webhook": webhook("a-secret-key", namespace="io.kestra.tests")},
):

    @task
    def noop():
        return None

    noop()

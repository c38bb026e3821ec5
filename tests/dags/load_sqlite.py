"""The target of the concurrency tests (every request a run, or a 503 on SQLite)."""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import webhook

with DAG(
    dag_id="load_sqlite",
    schedule=None,
    tags=["webhook", "test", "t4"],
    params={"webhook": webhook("t4-load-key")},
):

    @task
    def noop():
        return "ok"

    noop()

"""Webhooks page: an invalid raw declaration (``condition`` for ``conditions``), which
the page lists under "Invalid declarations" with its reason and file."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="ui_invalid",
    schedule=None,
    tags=["test", "issue6"],
    params={"webhook": {"key": "t6ui-invalid-key", "namespace": "t6ui", "condition": []}},
):

    @task
    def noop():
        return None

    noop()

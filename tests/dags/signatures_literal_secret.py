"""A declaration holding a literal signature secret, which the plugin must refuse.

The param is a plain mapping (not built with ``webhook()``), so the DAG itself imports fine and
the api-server's index shows the declaration as invalid instead of serving it.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="signatures_literal_secret",
    schedule=None,
    tags=["webhook", "test", "t4"],
    params={
        "webhook": {
            "key": "t4-literal-secret",
            "signature": {"type": "github", "secret": "t4-literal-secret-value-0123456789"},
        }
    },
):

    @task
    def noop():
        return "ok"

    noop()

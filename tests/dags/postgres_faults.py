"""PostgreSQL down: a literal key, so with the database down the trigger is still found
in the index in memory and only creating the run needs the database: 503 with Retry-After, not 404.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="postgres_faults",
    schedule=None,
    tags=["webhook", "test"],
    params={"webhook": {"id": "plain", "key": "t4pg-faults", "namespace": "t4pg"}},
):

    @task
    def noop():
        return None

    noop()

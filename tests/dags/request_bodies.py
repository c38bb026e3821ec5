"""Form, multipart and binary bodies reaching the run's conf."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(dag_id="request_bodies", schedule=None, params={"webhook": {"id": "bodies", "key": "t3-bodies"}}):

    @task
    def noop():
        return None

    noop()

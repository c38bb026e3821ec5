"""PostgreSQL down: the key is an Airflow Variable kept in the database, so rendering the
key needs the database. Airflow's secrets lookup reports a failing database as "not set"; the
webhook must still answer 503 with Retry-After (not 404: the sender must retry).
"""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="postgres_faults_secret",
    schedule=None,
    tags=["webhook", "test"],
    params={"webhook": {"id": "by_secret", "key": "{{ secret('PG_FAULTS_KEY') }}", "namespace": "t4pg"}},
):

    @task
    def noop():
        return None

    noop()

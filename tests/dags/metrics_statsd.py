"""A GitHub-signed webhook whose deliveries the metrics test counts over StatsD.

The signature secret is the Airflow Variable ``METRICS_SECRET``: set only in the metrics
test's own Airflow, so in the shared one this DAG simply answers 401 (it is never called there).
"""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="metrics_statsd",
    schedule=None,
    tags=["webhook", "test"],
    params={
        "webhook": {
            "id": "signed",
            "key": "t6-metrics-key",
            "namespace": "t6",
            "signature": {"type": "github", "secret": "{{ secret('METRICS_SECRET') }}"},
        }
    },
):

    @task
    def noop():
        return None

    noop()

"""PostgreSQL, several workers, load: the DAG the load test sends 1,000 deliveries to.

Two triggers, one per way a sender names its delivery: ``idem`` dedupes on the request's
``Idempotency-Key`` header, ``github`` checks a GitHub signature and dedupes on
``X-GitHub-Delivery``. The secret is an Airflow Variable (the load test's stack sets it through
the environment, so checking it costs no database read). No scheduler runs it: runs stay queued.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="postgres_load",
    schedule=None,
    tags=["webhook", "test"],
    params={
        "webhook": [
            {"id": "idem", "key": "t4pg-load", "namespace": "t4pg"},
            {
                "id": "github",
                "key": "t4pg-load-github",
                "namespace": "t4pg",
                "signature": {"type": "github", "secret": "{{ secret('PG_GITHUB_SECRET') }}"},
            },
        ]
    },
):

    @task
    def noop():
        return None

    noop()

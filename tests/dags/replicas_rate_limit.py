"""Replicas: a trigger limited to 10 requests a minute, shared by every replica.

With ``[webhook_trigger] rate_limit_storage`` on Redis, the 10 are counted across all
api-server workers and replicas (``tests/integration/test_replicas.py``); with the default
``memory://`` each worker counts alone. No scheduler runs it: runs stay queued.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="replicas_rate_limit",
    schedule=None,
    tags=["webhook", "test", "replicas"],
    params={"webhook": {"id": "rated", "key": "replicas-rated", "namespace": "replicas", "rateLimit": "10/minute"}},
):

    @task
    def noop():
        return None

    noop()

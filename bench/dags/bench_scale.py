"""Many DAGs declaring webhooks, from one file (``COUNT`` is rewritten by ``bench/run.py``).

One file generating DAGs in a loop parses far faster than thousands of files, and the index
does not care where a DAG came from: it reads the serialized DAGs. Each DAG has one trigger
with its own key and a condition, so the same DAG answers 404 (wrong key), 204 (condition not
met) and 200 (run created).
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import webhook

COUNT = 10

for i in range(COUNT):
    with DAG(
        dag_id=f"bench_scale_{i:05d}",
        schedule=None,
        tags=["bench"],
        params={"webhook": webhook(
            f"scale-key-{i}", namespace="bench",
            conditions=[{"type": "Expression", "expression": "{{ trigger.body.action == 'deploy' }}"}],
        )},
    ):

        @task
        def noop():
            return "ok"

        noop()

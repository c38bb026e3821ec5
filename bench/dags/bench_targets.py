"""The benchmark's target DAGs (copied into the benchmark's own AIRFLOW_HOME, never the tests').

``bench_trigger``: one webhook without conditions, so every request is a run (the 200 path),
triggered alike through the webhook and Airflow's ``POST /api/v2/dags/bench_trigger/dagRuns``.
``bench_conditions``: one webhook whose condition the benchmark's body never meets (the 204 path).
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import webhook

for dag_id, declaration in (
    ("bench_trigger", webhook("bench-key", namespace="bench")),
    ("bench_conditions", webhook(
        "bench-key", namespace="bench",
        conditions=[{"type": "Expression", "expression": "{{ trigger.body.action == 'deploy' }}"}],
    )),
):
    with DAG(dag_id=dag_id, schedule=None, tags=["bench"], params={"webhook": declaration}):

        @task
        def noop():
            return "ok"

        noop()

"""The DAG's params want ``body`` to be an object, so a text body answers 422."""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

with DAG(
    dag_id="endpoint_params_refuse",
    schedule=None,
    tags=["test", "issue2"],
    params={
        "webhook": {"key": "params-key", "namespace": "io.kestra.tests"},
        "body": Param({}, type="object"),
    },
):

    @task
    def noop():
        return None

    noop()

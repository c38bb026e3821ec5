"""An invalid raw declaration. The file imports fine (no helper validates it); the
api-server logs it, lists it as invalid, and its URL answers 404."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="declaration_invalid",
    schedule=None,
    tags=["test", "issue2"],
    params={
        "webhook": {
            "key": "t2-invalid-key-value",
            "namespace": "io.kestra.tests",
            "conditions": [{"type": "io.kestra.plugin.core.condition.MultipleCondition", "window": "PT1H"}],
        }
    },
):

    @task
    def noop():
        return None

    noop()

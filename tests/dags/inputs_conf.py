"""Inputs rendered into typed, validated params, and seen with their types by a task."""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

INPUTS = {
    "count": "{{ trigger.body.count }}",
    "tags": "{{ trigger.body.tags }}",
    "label": "#{{ trigger.body.count }} {{ trigger.body.name }}",
}

with DAG(
    dag_id="inputs_conf",
    schedule=None,
    params={
        "count": Param(0, type="integer"),
        "tags": Param([], type="array"),
        "label": Param("", type="string"),
        "webhook": [
            {"id": "inputs", "key": "t3-inputs", "inputs": INPUTS},
            {"id": "typed", "key": "t3-typed", "inputs": INPUTS, "wait": True, "timeout": 120, "returnOutputs": True},
        ],
    },
):

    @task
    def types(params=None):
        return {name: type(params[name]).__name__ for name in ("count", "tags", "label")}

    types()

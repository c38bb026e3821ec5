"""The fuzzing target. Request data reaches conditions and inputs as values only.

``fuzz`` reads the body, headers and parameters in its conditions and inputs in every way a DAG
author might. ``echo`` copies ``trigger.body.text`` into the conf and only runs when the text is
still the literal template text it was sent as (``{{``), so rendered request text would show.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import validate_declaration

with DAG(
    dag_id="fuzz_requests",
    schedule=None,
    tags=["webhook", "test", "t4"],
    params={
        "webhook": validate_declaration(
            [
                {
                    "id": "fuzz",
                    "key": "t4-fuzz-key",
                    "namespace": "t4.fuzz",
                    "conditions": [
                        {"type": "ExpressionCondition",
                         "expression": "{{ trigger.parameters.skip is not defined or trigger.body.nope }}"},
                    ],
                    "inputs": {
                        "in_body": "{{ trigger.body }}",
                        "in_agent": "{{ trigger.headers.get('user-agent') }}",
                        "in_params": "{{ trigger.parameters }}",
                        "in_text": "body={{ trigger.body }} q={{ trigger.parameters }}",
                    },
                },
                {
                    "id": "echo",
                    "key": "t4-fuzz-echo",
                    "namespace": "t4.fuzz",
                    "conditions": [
                        {"type": "ExpressionCondition", "expression": "{{ trigger.body.text == trigger.body.again }}"},
                        {"type": "ExpressionCondition", "expression": "{{ trigger.headers['x-echo'][0] == trigger.body.text }}"},
                        {"type": "ExpressionCondition", "expression": "{{ trigger.parameters.echo[0] == trigger.body.text }}"},
                    ],
                    "inputs": {"echo": "{{ trigger.body.text }}", "echo_text": "[{{ trigger.body.text }}]"},
                },
            ]
        )
    },
):

    @task
    def noop():
        return "ok"

    noop()

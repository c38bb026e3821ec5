"""The DAG the CLI tests list, print, dry-run and send to.

``main`` is GitHub-signed (secret: Airflow Variable ``CLI_SECRET``, set by the test) and
runs when the body says ``"action": "go"``; ``broken``'s key names a Variable that is never
set, so ``list`` must report it as a problem and ``url`` must say which Variable to set.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(
    dag_id="cli_commands",
    schedule=None,
    tags=["webhook", "test"],
    params={
        "webhook": [
            {
                "id": "main",
                "key": "t6-cli-KEY",
                "namespace": "t6",
                "signature": {"type": "github", "secret": "{{ secret('CLI_SECRET') }}"},
                "conditions": [{"type": "ExpressionCondition", "expression": "{{ trigger.body.action == 'go' }}"}],
                "inputs": {"who": "{{ trigger.body.who }}"},
            },
            {"id": "broken", "key": "{{ secret('CLI_MISSING') }}", "namespace": "t6"},
        ]
    },
):

    @task
    def noop():
        return None

    noop()

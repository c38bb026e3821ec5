"""Recipe: any script, cron job or tool that can run curl.

    curl -X POST 'http://localhost:8080/api/v1/executions/webhook/recipes/recipe_curl/cu-2Xb7Nm5Q?env=prod' \\
         -H 'Content-Type: application/json' -d '{"table": "orders", "rows": 1200}'

Query parameters are lists (``trigger.parameters.env[0]``), the JSON body is parsed. Runs only
for ``env`` prod or staging; ``Idempotency-Key: <id>`` makes a retried call the same run.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

from airflow_webhook_trigger import webhook

with DAG(
    dag_id="recipe_curl",
    schedule=None,
    tags=["webhook", "recipe"],
    params={
        "webhook": webhook(
            "{{ secret('RECIPE_CURL_KEY') }}",
            id="curl",
            namespace="recipes",
            conditions=[{"type": "ExpressionCondition",
                         "expression": "{{ trigger.parameters.env[0] in ['prod', 'staging'] }}"}],
            inputs={"env": "{{ trigger.parameters.env[0] }}", "table": "{{ trigger.body.table }}"},
        ),
        "table": Param("orders", type="string"),
    },
):

    @task
    def load(params=None, dag_run=None):
        print(f"Loading {dag_run.conf['table']} in {dag_run.conf['env']}")

    load()

"""Recipe: GitHub push and pull_request events, one webhook, filtered by headers and body.

In GitHub: Settings -> Webhooks -> Add webhook; Payload URL
``https://AIRFLOW/api/v1/executions/webhook/recipes/recipe_github/gh-8Jq2vR4wXz`` (print it with
``airflow-webhooks url recipe_github``), content type ``application/json``, the secret of the
Airflow Variable ``RECIPE_GITHUB_SECRET``, events "Pushes" and "Pull requests".

Runs for a push to ``main`` and for a pull request opened, reopened or updated against
``main``; every other event (ping, issues, a push to a branch, a closed PR...) answers 204 and
creates nothing. A redelivery (same ``X-GitHub-Delivery``) is the same run.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import webhook

EVENT = "trigger.headers['x-github-event'][0]"

with DAG(
    dag_id="recipe_github",
    schedule=None,
    tags=["webhook", "recipe"],
    params={
        "webhook": webhook(
            "{{ secret('RECIPE_GITHUB_KEY') }}",
            id="github",
            namespace="recipes",
            signature={"type": "github", "secret": "{{ secret('RECIPE_GITHUB_SECRET') }}"},
            conditions=[{
                "type": "OrCondition",
                "conditions": [
                    {"type": "ExpressionCondition",
                     "expression": f"{{{{ {EVENT} == 'push' and trigger.body.ref == 'refs/heads/main' }}}}"},
                    {"type": "ExpressionCondition",
                     "expression": f"{{{{ {EVENT} == 'pull_request'"
                                   " and trigger.body.action in ['opened', 'reopened', 'synchronize']"
                                   " and trigger.body.pull_request.base.ref == 'main' }}"},
                ],
            }],
            inputs={
                "event": f"{{{{ {EVENT} }}}}",
                "repository": "{{ trigger.body.repository.full_name }}",
                "sha": "{{ trigger.body.after if 'after' in trigger.body else trigger.body.pull_request.head.sha }}",
                "pull_request": "{{ trigger.body.number if 'number' in trigger.body else none }}",
            },
        ),
    },
):

    @task
    def build(dag_run=None):
        conf = dag_run.conf
        what = f"PR #{conf['pull_request']}" if conf["event"] == "pull_request" else "push"
        print(f"Building {conf['repository']}@{conf['sha']} for {what}")
        return conf["sha"]

    build()

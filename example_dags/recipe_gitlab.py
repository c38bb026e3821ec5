"""Recipe: GitLab push hooks to the default branch.

In GitLab: Settings -> Webhooks -> Add new webhook; URL
``https://AIRFLOW/api/v1/executions/webhook/recipes/recipe_gitlab/gl-Q7m3Kp9sLd``, Secret token =
the Airflow Variable ``RECIPE_GITLAB_TOKEN``, trigger "Push events". GitLab sends the token as is
in ``X-Gitlab-Token`` (compared in constant time); ``X-Gitlab-Event-UUID`` makes a retried
delivery the same run.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import validate_declaration

DECLARATION = """
id: gitlab
key: "{{ secret('RECIPE_GITLAB_KEY') }}"
namespace: recipes
signature:
  type: gitlab
  secret: "{{ secret('RECIPE_GITLAB_TOKEN') }}"
conditions:
  - type: ExpressionCondition
    expression: "{{ trigger.headers['x-gitlab-event'][0] == 'Push Hook' }}"
  - type: ExpressionCondition
    expression: "{{ trigger.body.ref == 'refs/heads/' ~ trigger.body.project.default_branch }}"
inputs:
  project: "{{ trigger.body.project.path_with_namespace }}"
  commit: "{{ trigger.body.checkout_sha }}"
  pushed_by: "{{ trigger.body.user_username }}"
"""

with DAG(
    dag_id="recipe_gitlab",
    schedule=None,
    tags=["webhook", "recipe"],
    params={"webhook": validate_declaration(DECLARATION)},
):

    @task
    def deploy(dag_run=None):
        conf = dag_run.conf
        print(f"Deploying {conf['project']}@{conf['commit']} pushed by {conf['pushed_by']}")

    deploy()

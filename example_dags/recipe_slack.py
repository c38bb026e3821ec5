"""Recipe: Slack slash commands, and the Events API with its url_verification handshake.

Two triggers, two Request URLs in the Slack app's settings, one signing secret (Basic
Information -> Signing Secret, in the Airflow Variable ``RECIPE_SLACK_SIGNING_SECRET``):

- Slash Commands -> ``/airflow``: ``.../recipes/recipe_slack/sl-cmd-6Vt2Lp`` — Slack posts a form
  (``trigger.formFields``); the run is created in milliseconds, well inside Slack's 3 s, and the
  DAG answers the user through ``response_url``.
- Event Subscriptions: ``.../recipes/recipe_slack/sl-evt-3Rw9Qn`` — when the URL is saved, Slack
  sends ``{"type": "url_verification", "challenge": ...}`` and wants the challenge back within
  3 s: the ``respond`` rule answers it at once, with no run. ``app_mention`` events start runs.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import validate_declaration

SIGNATURE = """\
  signature:
    type: slack
    secret: "{{ secret('RECIPE_SLACK_SIGNING_SECRET') }}"
"""

DECLARATION = f"""
- id: slash_command
  key: "{{{{ secret('SLACK_COMMAND_KEY') }}}}"
  namespace: recipes
{SIGNATURE}  conditions:
    - type: ExpressionCondition
      expression: "{{{{ trigger.formFields.command[0] == '/airflow' }}}}"
  inputs:
    text: "{{{{ trigger.formFields.text[0] }}}}"
    user: "{{{{ trigger.formFields.user_name[0] }}}}"
    response_url: "{{{{ trigger.formFields.response_url[0] }}}}"
- id: events
  key: "{{{{ secret('SLACK_EVENTS_KEY') }}}}"
  namespace: recipes
{SIGNATURE}  respond:
    - conditions:
        - type: ExpressionCondition
          expression: "{{{{ trigger.body.type == 'url_verification' }}}}"
      body: "{{{{ trigger.body.challenge }}}}"
      contentType: text/plain
  conditions:
    - type: ExpressionCondition
      expression: "{{{{ trigger.body.type == 'event_callback' and trigger.body.event.type == 'app_mention' }}}}"
  deliveryId: "{{{{ trigger.body.event_id }}}}"
  inputs:
    text: "{{{{ trigger.body.event.text }}}}"
    user: "{{{{ trigger.body.event.user }}}}"
"""

with DAG(
    dag_id="recipe_slack",
    schedule=None,
    tags=["webhook", "recipe"],
    params={"webhook": validate_declaration(DECLARATION)},
):

    @task
    def reply(dag_run=None):
        conf = dag_run.conf
        print(f"{conf['user']} asked: {conf['text']}")
        # a real DAG would post its answer to conf["response_url"] (slash command) or chat.postMessage

    reply()

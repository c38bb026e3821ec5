"""A Kestra trigger pasted as YAML, with Kestra's type names; the condition reads a
header in lower case that senders spell ``X-GitHub-Event``."""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import validate_declaration

KESTRA_YAML = """
triggers:
  - id: github
    type: io.kestra.plugin.core.trigger.Webhook
    key: yaml-key
    namespace: io.kestra.tests
    conditions:
      - type: io.kestra.plugin.core.condition.ExpressionCondition
        expression: "{{ trigger.headers['x-github-event'][0] == 'push' }}"
  - id: legacy
    type: io.kestra.core.models.triggers.types.Webhook
    key: yaml-legacy-key
    namespace: io.kestra.tests
    conditions:
      - type: io.kestra.core.models.conditions.types.VariableCondition
        expression: "{{ trigger.parameters.ok[0] == 'yes' }}"
"""

with DAG(
    dag_id="declaration_yaml",
    schedule=None,
    tags=["test", "issue2"],
    params={"webhook": validate_declaration(KESTRA_YAML)},
):

    @task
    def noop():
        return None

    noop()

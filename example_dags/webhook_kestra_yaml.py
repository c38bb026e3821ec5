"""Kestra trigger YAML pasted as is (``validate_declaration`` makes a mistake an import error)."""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import validate_declaration

KESTRA_TRIGGER = """
- id: webhook
  type: io.kestra.core.models.triggers.types.Webhook
  key: "{{ secret('KESTRA_YAML_KEY') }}"
  namespace: company.team
  conditions:
    - type: io.kestra.core.models.conditions.types.VariableCondition
      expression: "{{ trigger.body.hello == 'world' }}"
"""

with DAG(
    dag_id="webhook_kestra_yaml",
    schedule=None,
    tags=["webhook", "example"],
    params={"webhook": validate_declaration(KESTRA_TRIGGER)},
):

    @task
    def echo(dag_run=None):
        return dag_run.conf["body"]

    echo()

"""A Kestra 2.x flow's trigger pasted as YAML: tenant URL, ``when``, ``labels`` (Kestra's list
form and the mapping form), ``fetchType``, and inputs converted to the params' declared types."""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

from airflow_webhook_trigger import validate_declaration

KESTRA_YAML = """
triggers:
  - id: webhook
    type: io.kestra.plugin.core.trigger.Webhook
    key: k2-pasted
    namespace: company.team
    when: "{{ trigger.body.action == 'opened' }}"
    labels:
      source: github
      action: "{{ trigger.body.action }}"
    fetchType: FETCH
    inputs:
      count: "{{ trigger.body.count }}"
      ratio: "{{ trigger.parameters.ratio[0] }}"
      flag: "{{ trigger.parameters.flag[0] }}"
      items: "{{ trigger.body.items }}"
      payload: "{{ trigger.body.meta }}"
  - id: stored
    type: io.kestra.plugin.core.trigger.Webhook
    key: k2-store
    namespace: company.team
    fetchType: STORE
    labels:
      - key: kind
        value: "{{ trigger.headers['x-kind'][0] }}"
  - id: dropped
    type: io.kestra.plugin.core.trigger.Webhook
    key: k2-none
    namespace: company.team
    fetchType: NONE
"""

with DAG(
    dag_id="kestra2_pasted",
    schedule=None,
    tags=["test", "kestra2"],
    params={
        "webhook": validate_declaration(KESTRA_YAML),
        "count": Param(0, type="integer"),
        "ratio": Param(None, type=["null", "number"]),
        "flag": Param(False, type="boolean"),
        "items": Param([], type="array"),
        "payload": Param("", type="string"),
    },
):

    @task
    def noop():
        return None

    noop()

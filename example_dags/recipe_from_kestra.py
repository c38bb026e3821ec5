"""Recipe: coming from Kestra. A Kestra flow's ``triggers:`` block, pasted as is.

The whole Kestra flow below can be pasted: only its ``triggers`` are read (``id``, ``namespace``
and ``tasks`` are Kestra's and ignored here; the DAG id is the flow id of the URL). The URL
keeps Kestra's shape: ``/api/v1/executions/webhook/company.team/recipe_from_kestra/<key>``, and
Kestra 2.x's ``/api/v1/main/executions/webhook/...`` (tenant ``main``) works too.
Kestra's ``inputs`` become the run's conf (and are checked against the DAG's params, as
Kestra checks a flow's inputs).
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

from airflow_webhook_trigger import validate_declaration

KESTRA_FLOW = """
id: orders
namespace: company.team

inputs:
  - id: order_id
    type: STRING

tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "Order {{ inputs.order_id }}"

triggers:
  - id: webhook
    type: io.kestra.plugin.core.trigger.Webhook
    key: "{{ secret('KESTRA_RECIPE_KEY') }}"
    namespace: company.team
    conditions:
      - type: io.kestra.plugin.core.condition.ExpressionCondition
        expression: "{{ trigger.body.status == 'paid' }}"
    when: "{{ trigger.body.amount > 0 }}"        # Kestra 2.x
    labels:                                       # Kestra 2.x
      source: shop
      currency: "{{ trigger.body.currency }}"
    fetchType: FETCH                              # Kestra 2.x: FETCH, STORE or NONE
    inputs:
      order_id: "{{ trigger.body.order_id }}"
"""

with DAG(
    dag_id="recipe_from_kestra",
    schedule=None,
    tags=["webhook", "recipe"],
    params={
        "webhook": validate_declaration(KESTRA_FLOW),
        "order_id": Param("", type="string", description="Kestra's flow input, filled by the webhook"),
    },
):

    @task
    def hello(params=None):
        print(f"Order {params['order_id']}")  # Kestra: {{ inputs.order_id }}
        return params["order_id"]

    hello()

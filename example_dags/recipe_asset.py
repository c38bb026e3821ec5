"""Recipe: a webhook that records an asset event, for DAGs scheduled on the asset.

    curl -X POST http://localhost:8080/api/v1/executions/webhook/recipes/recipe_asset/as-7Hc2Lq9W \\
         -H 'Content-Type: application/json' -H 'Idempotency-Key: order-1042' \\
         -d '{"order_id": 1042, "total": 99.5}'

The trigger names an ``asset``: a delivery does not start this DAG, it records an event on
``s3://example-shop/orders`` through Airflow's asset manager (with the body, headers, query
parameters and inputs in the event's ``extra``), and every DAG scheduled on that asset runs:
here ``recipe_asset_consumer``. The answer names the asset and the event
(``{"asset": "s3://example-shop/orders", "asset_event_id": 7, "duplicate": false, ...}``); the
same ``Idempotency-Key`` again is the same event, ``"duplicate": true``.

This DAG's own task also produces the asset (say, a nightly full export), so the asset exists
as soon as this file is parsed; pausing this DAG turns the webhook off (409).
"""

from __future__ import annotations

from airflow.sdk import DAG, Asset, task

from airflow_webhook_trigger import webhook

ORDERS = Asset("s3://example-shop/orders")

with DAG(
    dag_id="recipe_asset",
    schedule=None,
    tags=["webhook", "recipe", "asset"],
    params={
        "webhook": webhook(
            "{{ secret('ASSET_RECIPE_KEY') }}",  # airflow variables set ASSET_RECIPE_KEY <key>
            id="order_created",
            namespace="recipes",
            asset=ORDERS,  # or its URI, or {"uri": ..., "name": ..., "group": ...}
            conditions=[{"type": "ExpressionCondition", "expression": "{{ trigger.body.order_id is defined }}"}],
            inputs={"order_id": "{{ trigger.body.order_id }}"},
        ),
    },
):

    @task(outlets=[ORDERS])
    def export_all_orders():
        print("A full export of the orders, also an event on", ORDERS.uri)

    export_all_orders()

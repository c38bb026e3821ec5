"""Recipe: Stripe events, signature and replay window checked, each event id one run.

In Stripe: Developers -> Webhooks -> Add endpoint; URL
``https://AIRFLOW/api/v1/executions/webhook/recipes/recipe_stripe/st-4Hn8Wc2Tb``, events
``payment_intent.succeeded``; put the endpoint's signing secret (``whsec_...``) in the Airflow
Variable ``RECIPE_STRIPE_SECRET``. ``Stripe-Signature`` older than 5 minutes is refused (401),
and Stripe's retries of one event (same ``id``) find the run created the first time.
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import webhook

with DAG(
    dag_id="recipe_stripe",
    schedule=None,
    tags=["webhook", "recipe"],
    params={
        "webhook": webhook(
            "{{ secret('RECIPE_STRIPE_KEY') }}",
            id="stripe",
            namespace="recipes",
            signature={"type": "stripe", "secret": "{{ secret('RECIPE_STRIPE_SECRET') }}"},
            conditions=[{"type": "ExpressionCondition",
                         "expression": "{{ trigger.body.type == 'payment_intent.succeeded' }}"}],
            inputs={
                "order_id": "{{ trigger.body.data.object.metadata.order_id }}",
                "amount": "{{ trigger.body.data.object.amount }}",
                "currency": "{{ trigger.body.data.object.currency }}",
            },
        ),
    },
):

    @task
    def fulfil(dag_run=None):
        conf = dag_run.conf
        print(f"Order {conf['order_id']} paid: {conf['amount'] / 100:.2f} {conf['currency'].upper()}")

    fulfil()

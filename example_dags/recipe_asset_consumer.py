"""Recipe: the DAG that runs when ``recipe_asset``'s webhook records an event on its asset.

A plain asset-scheduled DAG: nothing in it knows about webhooks. Each event's ``extra`` holds
what a webhook run's conf would hold (``body``, ``headers``, ``parameters``, the inputs) and,
under ``webhook``, who sent it (namespace, DAG, trigger id, correlation id).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Asset, task

with DAG(
    dag_id="recipe_asset_consumer",
    schedule=[Asset("s3://example-shop/orders")],
    start_date=datetime(2026, 1, 1),  # Airflow 2.x needs one for any schedule
    tags=["webhook", "recipe", "asset"],
):

    @task
    def process_orders(**context):
        # Airflow 2.10/2.11 names it triggering_dataset_events
        events = context.get("triggering_asset_events") or context.get("triggering_dataset_events") or {}
        orders = [event.extra.get("body") for asset_events in events.values() for event in asset_events]
        for order in orders:
            print("New order:", order)
        return orders

    process_orders()

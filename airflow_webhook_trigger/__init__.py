"""Kestra's Webhook trigger for Apache Airflow.

A DAG declares a webhook in its ``webhook`` param; any service that can call a URL starts it
through ``/api/v1/executions/webhook/{namespace}/{dag_id}/{key}``. The names below are what DAG
authors use; everything else is private to the plugin.
"""

from __future__ import annotations

from airflow_webhook_trigger.declarations import parse_declaration, validate_declaration, webhook
from airflow_webhook_trigger.errors import WebhookDeclarationError

__all__ = ["webhook", "validate_declaration", "parse_declaration", "WebhookDeclarationError", "__version__"]

__version__ = "0.2.0.dev0"

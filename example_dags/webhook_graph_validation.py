"""A Microsoft Graph change-notification subscription, validation handshake included.

When a subscription is created, Graph sends ``POST {notificationUrl}?validationToken=<token>``
and expects the token back, decoded, as ``text/plain`` within 10 seconds. With ``wait``, a
single-template ``outputs`` and ``responseContentType: text/plain`` the rendered text is the whole
answer. Later notifications (no token) get the run's state as text and are handled by the task.
Keep the DAG trivial: the answer waits for the run.

    curl -X POST 'http://localhost:8080/api/v1/executions/webhook/demo/webhook_graph_validation/graph-3b9e07?validationToken=abc%20123'
    # -> 200 text/plain: abc 123
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import webhook

with DAG(
    dag_id="webhook_graph_validation",
    schedule=None,
    tags=["webhook", "example"],
    params={
        "webhook": webhook(
            "{{ secret('GRAPH_WEBHOOK_KEY') }}",
            id="graph",
            namespace="demo",
            wait=True,
            timeout=30,
            return_outputs=True,
            outputs="{{ trigger.parameters.validationToken[0] if 'validationToken' in trigger.parameters else run.state }}",
            response_content_type="text/plain",
            response_code="{{ 200 if 'validationToken' in trigger.parameters else 202 }}",
        )
    },
):

    @task
    def handle_notifications(dag_run=None):
        if "validationToken" in dag_run.conf["parameters"]:
            return "validation handshake"
        changes = (dag_run.conf.get("body") or {}).get("value") or []
        for change in changes:
            print(f"{change.get('changeType')} on {change.get('resource')}")
        return len(changes)

    handle_notifications()

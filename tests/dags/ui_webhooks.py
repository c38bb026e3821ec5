"""Webhooks page: a DAG with several webhook triggers, to be listed by the page.

``github`` has a key read from the Airflow Variable ``UI_KEY`` (the page's "Reveal" must
render it server-side), a GitHub signature and two conditions; ``plain`` has a literal key and
a condition; ``limited`` accepts one request an hour (429 after); ``off`` is disabled (409);
``unset`` has a key whose secret is never set (Reveal explains why it cannot show it).

The DAG id is the file's name, so the access tests copy this file as ``ui_alpha.py`` and
``ui_beta.py`` into two bundles owned by two teams.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import DAG, task

from airflow_webhook_trigger import webhook

with DAG(
    dag_id=Path(__file__).stem,
    schedule=None,
    tags=["test", "issue6"],
    params={
        "webhook": [
            webhook(
                "{{ secret('UI_KEY') }}",
                id="github",
                namespace="t6ui",
                description="GitHub pushes to main",
                signature={"type": "github", "secret": "{{ secret('UI_GH_SECRET') }}"},
                conditions=[
                    {"type": "ExpressionCondition",
                     "expression": "{{ trigger.headers['x-github-event'][0] == 'push' }}"},
                    {"type": "ExpressionCondition", "expression": "{{ trigger.body.ref == 'refs/heads/main' }}"},
                ],
            ),
            webhook("t6ui-plain-key", id="plain", namespace="t6ui",
                    conditions=[{"type": "ExpressionCondition", "expression": "{{ trigger.body.go != false }}"}]),
            webhook("t6ui-limited-key", id="limited", namespace="t6ui", rate_limit="1/hour"),
            webhook("t6ui-off-key", id="off", namespace="t6ui", disabled=True),
            webhook("{{ secret('UI_NEVER_SET') }}", id="unset", namespace="t6ui"),
        ]
    },
):

    @task
    def noop():
        return None

    noop()

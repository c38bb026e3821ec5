"""``inputs``: the request mapped into the DAG's own params, typed and validated.

A pull-request event becomes three params. Each input is a template on ``trigger.*``; one that is
a single ``{{ expression }}`` keeps its type, so the number stays a number and the labels a
list, and the DAG's ``Param`` schemas validate them: a bad value answers 422 naming the param,
and no run is created.

    curl -X POST http://localhost:8080/api/v1/executions/webhook/demo/webhook_inputs/pr-review-5f2c9a \
         -H 'Content-Type: application/json' \
         -d '{"pull_request": {"number": 42, "title": "Fix login", "labels": [{"name": "bug"}, {"name": "ui"}]}}'
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

from airflow_webhook_trigger import webhook

with DAG(
    dag_id="webhook_inputs",
    schedule=None,
    tags=["webhook", "example"],
    params={
        "pr_number": Param(1, type="integer", minimum=1, description="The pull request's number"),
        "title": Param("", type="string", maxLength=200),
        "labels": Param([], type="array", items={"type": "string"}),
        "webhook": webhook(
            "{{ secret('PR_REVIEW_WEBHOOK_KEY') }}",
            namespace="demo",
            inputs={
                "pr_number": "{{ trigger.body.pull_request.number }}",
                "title": "{{ trigger.body.pull_request.title }}",
                "labels": "{{ trigger.body.pull_request.labels | map(attribute='name') | list }}",
            },
        ),
    },
):

    @task
    def review(params=None):
        print(f"Reviewing PR #{params['pr_number']} {params['title']!r} labelled {params['labels']}")
        return {"pr_number": params["pr_number"], "labels": params["labels"]}

    review()

"""A ``responseCode`` outside 200-599: refused when the declaration is read."""

from airflow.sdk import DAG, task

with DAG("safety_codes", schedule=None, params={"webhook": {
    "key": "{{ secret('SAFETY_KEY') }}", "namespace": "safety", "wait": True, "returnOutputs": True,
    "responseCode": "700",
}}):

    @task
    def noop():
        return "ok"

    noop()

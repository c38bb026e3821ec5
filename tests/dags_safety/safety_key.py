"""A plain webhook with a secret key: sub-path, cut-off bodies, floods, key hygiene."""

from airflow.sdk import DAG, task

with DAG("safety_key", schedule=None, params={"webhook": {"key": "{{ secret('SAFETY_KEY') }}", "namespace": "safety"}}):

    @task
    def noop():
        return "ok"

    noop()

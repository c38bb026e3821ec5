"""A literal key, refused when ``allow_literal_keys`` is False."""

from airflow.sdk import DAG, task

with DAG("safety_literal", schedule=None, params={"webhook": {"key": "safety-literal-key", "namespace": "safety"}}):

    @task
    def noop():
        return "ok"

    noop()

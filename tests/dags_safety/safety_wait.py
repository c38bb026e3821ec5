"""``wait: true`` (the runs never finish here: no scheduler): abandoned waits, the wait cap."""

from airflow.sdk import DAG, task

with DAG("safety_wait", schedule=None, params={"webhook": {
    "key": "{{ secret('SAFETY_KEY') }}", "namespace": "safety", "wait": True, "timeout": 300,
}}):

    @task
    def noop():
        return "ok"

    noop()

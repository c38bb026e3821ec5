"""Signatures: a rotated GitHub secret (old and new both sign)."""

from airflow.sdk import DAG, task

with DAG("safety_signed", schedule=None, params={"webhook": [
    {"id": "rotated", "key": "{{ secret('SAFETY_KEY') }}-rot", "namespace": "safety",
     "signature": {"type": "github", "secret": ["{{ secret('ROT_OLD') }}", "{{ secret('ROT_NEW') }}"]}},
]}):

    @task
    def noop():
        return "ok"

    noop()

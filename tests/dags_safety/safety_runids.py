"""Run ids that cannot collide, no unsigned Idempotency-Key for a signed trigger, and a key
that does not render (logged once a minute)."""

from airflow.sdk import DAG, task

KEY = "{{ secret('SAFETY_KEY') }}"
with DAG("safety_runids", schedule=None, params={"webhook": [
    {"id": "a__b", "key": KEY + "-ab", "namespace": "safety"},
    {"id": "a", "key": KEY + "-a", "namespace": "safety"},
    {"id": "signed", "key": KEY + "-gh", "namespace": "safety",
     "signature": {"type": "github", "secret": "{{ secret('ROT_NEW') }}"}},
    {"id": "broken", "key": "{{ secret('SAFETY_MISSING') }}", "namespace": "safety"},
]}):

    @task
    def noop():
        return "ok"

    noop()

"""Signatures: a rotated GitHub secret (old and new), run ids that cannot collide, no
unsigned Idempotency-Key, a secret that does not render."""

from airflow.sdk import DAG, task

KEY = "{{ secret('SAFETY_KEY') }}"
with DAG("safety_signed", schedule=None, params={"webhook": [
    {"id": "rotated", "key": KEY + "-rot", "namespace": "safety",
     "signature": {"type": "github", "secret": ["{{ secret('ROT_OLD') }}", "{{ secret('ROT_NEW') }}"]}},
    {"id": "a__b", "key": KEY + "-ab", "namespace": "safety"},
    {"id": "a", "key": KEY + "-a", "namespace": "safety"},
    {"id": "broken", "key": "{{ secret('SAFETY_MISSING') }}", "namespace": "safety"},
]}):

    @task
    def noop():
        return "ok"

    noop()

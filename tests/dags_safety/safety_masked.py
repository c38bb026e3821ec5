"""Operator-masked header and parameter: conditions and inputs see them, the conf does not."""

from airflow.sdk import DAG, task

with DAG("safety_masked", schedule=None, params={"webhook": {
    "key": "{{ secret('SAFETY_KEY') }}", "namespace": "safety",
    "conditions": [{"type": "ExpressionCondition",
                    "expression": "{{ trigger.headers['X-Custom-Token'][0] == 'real-token' "
                                  "and trigger.parameters.token[0] == 'real-param' }}"}],
    "inputs": {"token_length": "{{ trigger.parameters.token[0] | length }}"},
}}):

    @task
    def noop():
        return "ok"

    noop()

"""Which wait/outputs/inputs combinations a declaration may hold (refused at parse time)."""

from __future__ import annotations

import pytest

from airflow_webhook_trigger.declarations import parse_declaration
from airflow_webhook_trigger.errors import WebhookDeclarationError


@pytest.mark.parametrize(
    "properties, where, problem",
    [
        ({"outputs": "{{ 1 }}"}, "webhook.outputs", "needs wait"),
        ({"responseCode": "201"}, "webhook.responseCode", "needs wait"),
        ({"timeout": 5}, "webhook.timeout", "needs wait"),
        ({"wait": True, "timeout": 0}, "webhook.timeout", "positive"),
        ({"wait": True, "timeout": "60"}, "webhook.timeout", "positive"),
        ({"wait": True, "responseContentType": "text/plain"}, "webhook.responseContentType", "returnOutputs"),
        ({"wait": True, "returnOutputs": True, "responseContentType": "text/html"}, "webhook.responseContentType", "text/plain"),
        ({"wait": "yes"}, "webhook.wait", "true or false"),
        ({"inputs": {"body": "{{ trigger.body }}"}}, "webhook.inputs.body", "reserved"),
        ({"inputs": {"parts": "{{ 1 }}"}}, "webhook.inputs.parts", "reserved"),
        ({"inputs": ["a"]}, "webhook.inputs", "map"),
        ({"inputs": {"n": "{{ trigger.body.n "}}, "webhook.inputs.n", "syntax"),
        ({"wait": True, "returnOutputs": True, "outputs": {"a": "{% if %}"}}, "webhook.outputs.a", "syntax"),
    ],
)
def test_refused_combinations(properties, where, problem):
    with pytest.raises(WebhookDeclarationError) as info:
        parse_declaration({"key": "k", **properties})
    assert info.value.where == where and problem in info.value.problem


def test_accepted_combinations():
    (trigger,) = parse_declaration(
        {
            "key": "k",
            "wait": True,
            "timeout": 2,
            "returnOutputs": True,
            "outputs": "{{ trigger.parameters.validationToken[0] }}",
            "responseCode": "{{ 200 }}",
            "responseContentType": "text/plain",
            "inputs": {"n": "{{ trigger.body.n }}"},
        }
    )
    assert (trigger.wait, trigger.timeout, trigger.return_outputs, trigger.response_content_type) == (True, 2.0, True, "text/plain")
    assert trigger.inputs == {"n": "{{ trigger.body.n }}"}


def test_kestra_2_wait_rules_are_accepted():
    """Kestra 2.x (was refused here): returnOutputs without wait is accepted and ignored;
    outputs and responseCode need only wait."""
    (ignored,) = parse_declaration({"key": "k", "returnOutputs": True})
    assert ignored.return_outputs is False and ignored.ignored == ("returnOutputs",)
    (trigger,) = parse_declaration({"key": "k", "wait": True, "outputs": "{{ 1 }}", "responseCode": "201"})
    assert (trigger.wait, trigger.return_outputs, trigger.outputs, trigger.response_code) == (True, False, "{{ 1 }}", "201")

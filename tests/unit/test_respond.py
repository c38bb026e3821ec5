"""``respond`` rules: parsing (errors name the field) and the answer dispatch gives, with no run."""

from __future__ import annotations

import json

import pytest

from airflow_webhook_trigger.declarations import parse_declaration
from airflow_webhook_trigger.dispatch import handle
from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.index import WebhookIndex
from airflow_webhook_trigger.request import WebhookRequest

IS_CHALLENGE = {"type": "ExpressionCondition", "expression": "{{ trigger.body.type == 'url_verification' }}"}


def _declaration(**respond):
    rule = {"conditions": [IS_CHALLENGE], "body": "{{ trigger.body.challenge }}", **respond}
    return {"key": "k", "namespace": "ns", "respond": rule,
            "conditions": [{"type": "ExpressionCondition",
                            "expression": "{{ trigger.body.type == 'event_callback' }}"}]}


def _send(declaration, body: dict):
    index = WebhookIndex.from_triggers({"d": declaration})
    request = WebhookRequest("POST", headers=(("Content-Type", "application/json"),), body=json.dumps(body).encode())
    return handle(request, "ns", "d", "k", index=index)


def test_a_matching_rule_answers_with_the_rendered_text_and_no_run():
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    outcome = _send(_declaration(), {"type": "url_verification", "challenge": challenge})
    assert (outcome.status, outcome.body) == (200, challenge)
    assert outcome.content_type.startswith("text/plain")
    assert outcome.run_id is None and outcome.responded and outcome.outcome_name == "responded"


def test_no_matching_rule_goes_on_to_the_trigger_conditions():
    outcome = _send(_declaration(), {"type": "something_else"})
    assert outcome.status == 204 and not outcome.responded


def test_a_json_mapping_body_and_a_code():
    outcome = _send(_declaration(body={"challenge": "{{ trigger.body.challenge }}", "n": "{{ 1 + 1 }}"}, code=201),
                    {"type": "url_verification", "challenge": "c"})
    assert (outcome.status, outcome.body, outcome.content_type) == (201, {"challenge": "c", "n": 2}, "application/json")


def test_a_body_that_fails_to_render_answers_422_naming_the_rule():
    outcome = _send(_declaration(body="{{ trigger.body.nope.deeper }}"), {"type": "url_verification"})
    assert outcome.status == 422 and "respond[0].body" in outcome.body["message"]


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ({"body": "x"}, "webhook.respond.conditions"),
        ({"conditions": [], "body": "x"}, "webhook.respond.conditions"),
        ({"conditions": [IS_CHALLENGE], "body": "{{ x"}, "webhook.respond.body"),
        ({"conditions": [IS_CHALLENGE], "code": 99}, "webhook.respond.code"),
        ({"conditions": [IS_CHALLENGE], "contentType": "text/html"}, "webhook.respond.contentType"),
        ({"conditions": [IS_CHALLENGE], "bdy": "x"}, "webhook.respond.bdy"),
        ({"conditions": [IS_CHALLENGE], "body": {"a": "b"}, "contentType": "text/plain"}, "webhook.respond.body"),
    ],
)
def test_invalid_rules_name_the_field(rule, where):
    with pytest.raises(WebhookDeclarationError) as error:
        parse_declaration({"key": "k", "respond": rule})
    assert error.value.where == where


def test_a_list_of_rules_in_kestra_yaml():
    (trigger,) = parse_declaration(
        """
        id: slack
        key: k
        respond:
          - conditions: [{type: ExpressionCondition, expression: "{{ trigger.body.type == 'a' }}"}]
            body: A
          - conditions: [{type: ExpressionCondition, expression: "{{ trigger.body.type == 'b' }}"}]
            body: B
        """
    )
    assert [r.body for r in trigger.respond] == ["A", "B"]

"""Tests for airflow_webhook_trigger.conditions (ExpressionCondition/VariableCondition, Or, Not):
every type name Kestra has used, MultipleCondition refused with Kestra's message, unknown types,
field checks, Kestra's truthiness, errors counting as false, and ``evaluate``'s AND."""

from __future__ import annotations

import pytest

from airflow_webhook_trigger import WebhookDeclarationError
from airflow_webhook_trigger.conditions import evaluate, holds_or_false, parse_conditions
from airflow_webhook_trigger.conditions.expression import ExpressionCondition
from airflow_webhook_trigger.conditions.logic import NotCondition, OrCondition
from airflow_webhook_trigger.request import Headers
from airflow_webhook_trigger.templating import flow_context


def one(raw: dict):
    (condition,) = parse_conditions([raw])
    return condition


def expr(text) -> dict:
    return {"type": "ExpressionCondition", "expression": text}


def context(body=None, headers=()) -> dict:
    result = flow_context("my_dag", "company.team")
    result["trigger"] = {"body": body, "headers": Headers(headers), "parameters": {}}
    return result


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_name",
    [
        "ExpressionCondition",
        "Expression",
        "io.kestra.plugin.core.condition.ExpressionCondition",
        "io.kestra.core.models.conditions.types.ExpressionCondition",
        "VariableCondition",
        "Variable",
        "io.kestra.core.models.conditions.types.VariableCondition",
        "io.kestra.plugin.core.condition.VariableCondition",
        "  ExpressionCondition  ",
    ],
)
def test_expression_and_its_alias_under_every_name(type_name):
    condition = one({"type": type_name, "expression": "{{ true }}"})
    assert isinstance(condition, ExpressionCondition)
    assert condition.type_name == "ExpressionCondition"


@pytest.mark.parametrize(
    ("type_name", "cls"),
    [
        ("OrCondition", OrCondition),
        ("Or", OrCondition),
        ("io.kestra.plugin.core.condition.OrCondition", OrCondition),
        ("io.kestra.core.models.conditions.types.OrCondition", OrCondition),
        ("NotCondition", NotCondition),
        ("io.kestra.plugin.core.condition.NotCondition", NotCondition),
        ("io.kestra.core.models.conditions.types.NotCondition", NotCondition),
    ],
)
def test_or_and_not_under_every_name(type_name, cls):
    assert isinstance(one({"type": type_name, "conditions": [expr("{{ true }}")]}), cls)


@pytest.mark.parametrize(
    "type_name",
    [
        "MultipleCondition",
        "Multiple",
        "io.kestra.plugin.core.condition.MultipleCondition",
        "io.kestra.core.models.conditions.types.MultipleCondition",
    ],
)
def test_multiple_condition_is_refused_with_kestras_message(type_name):
    with pytest.raises(WebhookDeclarationError) as info:
        parse_conditions([{"type": type_name, "window": "PT1H", "conditions": {}}])
    assert info.value.problem == "conditions of type MultipleCondition are not supported"
    assert info.value.where == "conditions[0].type"


def test_multiple_condition_is_refused_when_nested_too():
    with pytest.raises(WebhookDeclarationError, match="MultipleCondition are not supported") as info:
        parse_conditions([{"type": "OrCondition", "conditions": [{"type": "MultipleCondition"}]}])
    assert info.value.where == "conditions[0].conditions[0].type"


@pytest.mark.parametrize(
    "type_name",
    ["FooCondition", "io.kestra.plugin.core.condition.FlowCondition", "Condition", "expressioncondition",
     "io.other.ExpressionCondition"],
)
def test_unknown_types_are_refused_naming_the_known_ones(type_name):
    with pytest.raises(WebhookDeclarationError) as info:
        parse_conditions([{"type": type_name, "expression": "{{ true }}"}])
    assert "unknown condition type" in info.value.problem
    assert "ExpressionCondition" in info.value.problem


@pytest.mark.parametrize("raw", [{"expression": "{{ true }}"}, {"type": ""}, {"type": None}, {"type": 3}])
def test_type_is_required(raw):
    with pytest.raises(WebhookDeclarationError) as info:
        parse_conditions([raw])
    assert info.value.where == "conditions[0].type"


# --- fields --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, {"type": "ExpressionCondition", "expression": "{{ true }}"}, "{{ true }}", 3])
def test_conditions_must_be_a_list(raw):
    if raw is None:
        assert parse_conditions(raw) == ()
        return
    with pytest.raises(WebhookDeclarationError, match="must be a list"):
        parse_conditions(raw)


def test_a_condition_must_be_a_mapping():
    with pytest.raises(WebhookDeclarationError) as info:
        parse_conditions(["{{ true }}"])
    assert info.value.where == "conditions[0]"


@pytest.mark.parametrize("expression", [None, ""])
def test_expression_is_required(expression):
    with pytest.raises(WebhookDeclarationError) as info:
        parse_conditions([{"type": "ExpressionCondition", "expression": expression}])
    assert info.value.where == "conditions[0].expression"


def test_unknown_property_is_refused():
    with pytest.raises(WebhookDeclarationError) as info:
        parse_conditions([{"type": "ExpressionCondition", "expresion": "{{ true }}", "expression": "x"}])
    assert info.value.where == "conditions[0].expresion"


def test_expression_syntax_is_checked_at_declaration():
    with pytest.raises(WebhookDeclarationError) as info:
        parse_conditions([expr("{{ trigger.body.a == }}")])
    assert info.value.where == "conditions[0].expression" and "syntax" in info.value.problem


@pytest.mark.parametrize(
    "raw",
    [{"type": "OrCondition"}, {"type": "OrCondition", "conditions": []},
     {"type": "NotCondition", "conditions": None}, {"type": "NotCondition", "conditions": "x"}],
)
def test_or_and_not_need_conditions(raw):
    with pytest.raises(WebhookDeclarationError) as info:
        parse_conditions([raw])
    assert info.value.where.startswith("conditions[0].conditions")


@pytest.mark.parametrize(("yaml_value", "holds"), [(True, True), (False, False)])
def test_a_yaml_boolean_expression_is_read_as_its_text(yaml_value, holds):
    assert one({"type": "ExpressionCondition", "expression": yaml_value}).holds(context()) is holds


# --- evaluation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "holds"),
    [
        ("{{ trigger.body.hello == 'world' }}", True),
        ("{{ trigger.body.hello == 'webhook' }}", False),
        ("{{ 'false' }}", False),
        ("{{ ' FALSE ' }}", False),
        ("{{ '' }}", False),
        ("   ", False),
        ("{{ 0 }}", True),  # Kestra: only blank or "false" is false
        ("{{ none }}", True),  # renders "None"
        ("yes", True),
        ("{% if trigger.body.hello %}false{% endif %}", False),
        ("{{ flow.id == 'my_dag' and flow.namespace == 'company.team' }}", True),
    ],
)
def test_expression_truthiness(expression, holds):
    assert one(expr(expression)).holds(context({"hello": "world"})) is holds


@pytest.mark.parametrize(
    "expression",
    [
        "{{ trigger.body.missing == 'x' }}",  # undefined
        "{{ trigger.body.hello.deeper.still }}",
        "{{ trigger.body.hello + 1 }}",  # type error
        "{{ trigger.body.__class__ }}",  # sandbox
        "{{ secret('ENDPOINT_NOT_SET_ANYWHERE') }}",
    ],
)
def test_an_error_counts_as_false(expression):
    ok, why = holds_or_false(one(expr(expression)), context({"hello": "world"}))
    assert ok is False and why.startswith("error: ")


def test_headers_are_case_insensitive_in_a_condition():
    condition = one(expr("{{ trigger.headers['x-github-event'][0] == 'push' }}"))
    assert condition.holds(context(headers=[("X-GitHub-Event", "push")])) is True
    assert condition.holds(context(headers=[("X-GitHub-Event", "issues")])) is False


def test_request_text_is_compared_literally():
    condition = one(expr("{{ trigger.body.hello == '{{ 7*7 }}' }}"))
    assert condition.holds(context({"hello": "{{ 7*7 }}"})) is True
    assert condition.holds(context({"hello": "49"})) is False


def test_or():
    condition = one({"type": "OrCondition", "conditions": [expr("{{ trigger.body.a == 1 }}"),
                                                           expr("{{ trigger.body.a == 2 }}")]})
    assert [condition.holds(context({"a": n})) for n in (1, 2, 3)] == [True, True, False]
    assert condition.holds(context({})) is False  # both fail with errors: false, not an exception


def test_or_with_an_error_inside_still_looks_at_the_others():
    condition = one({"type": "OrCondition", "conditions": [expr("{{ trigger.body.missing }}"), expr("{{ true }}")]})
    assert condition.holds(context({})) is True


def test_not():
    condition = one({"type": "NotCondition", "conditions": [expr("{{ trigger.body.a == 1 }}"),
                                                            expr("{{ trigger.body.a == 2 }}")]})
    assert [condition.holds(context({"a": n})) for n in (1, 2, 3)] == [False, False, True]


def test_not_of_an_error_is_true_as_in_kestra():
    condition = one({"type": "NotCondition", "conditions": [expr("{{ trigger.body.missing }}")]})
    assert condition.holds(context({})) is True


def test_nesting():
    condition = one({"type": "NotCondition", "conditions": [
        {"type": "OrCondition", "conditions": [expr("{{ trigger.body.a == 1 }}"), expr("{{ trigger.body.b == 1 }}")]}]})
    assert condition.holds(context({"a": 0, "b": 0})) is True
    assert condition.holds(context({"a": 0, "b": 1})) is False


def test_evaluate_is_an_and_that_stops_at_the_first_false():
    conditions = parse_conditions(
        [expr("{{ trigger.body.a == 1 }}"), expr("{{ trigger.body.missing }}"), expr("{{ true }}")]
    )
    result = evaluate(conditions, context({"a": 2}))
    assert result.met is False and len(result.results) == 1
    assert "ExpressionCondition {{ trigger.body.a == 1 }}: false" == result.reason

    result = evaluate(conditions, context({"a": 1}), stop_early=False)
    assert result.met is False
    assert [ok for _, ok, _ in result.results] == [True, False, True]
    assert "undefined" in result.reason

    result = evaluate(parse_conditions([expr("{{ true }}"), expr("x")]), context())
    assert result.met is True and result.reason == "all conditions met"


def test_no_conditions_means_met():
    assert evaluate((), context()).met is True


def test_describe():
    assert one(expr("{{ true }}")).describe() == "ExpressionCondition {{ true }}"
    described = one({"type": "OrCondition", "conditions": [expr("{{ a }}"), expr("{{ b }}")]}).describe()
    assert described == "OrCondition(ExpressionCondition {{ a }} | ExpressionCondition {{ b }})"

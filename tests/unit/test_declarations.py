"""Tests for airflow_webhook_trigger.declarations: the three forms of a declaration (mapping,
list, YAML string with Kestra's types), every rule on its fields, the DAG author's helpers, and
error messages that name the field at fault and never quote a key."""

from __future__ import annotations

import json

import pytest

from airflow_webhook_trigger import WebhookDeclarationError, parse_declaration, validate_declaration, webhook
from airflow_webhook_trigger.conditions.expression import ExpressionCondition
from airflow_webhook_trigger.declarations import MAX_KEY_LENGTH, WebhookTrigger

SECRET_KEY = "K3Y_VALUE_never_in_messages"


def error_of(value) -> WebhookDeclarationError:
    with pytest.raises(WebhookDeclarationError) as info:
        parse_declaration(value)
    return info.value


# --- the three forms ---------------------------------------------------------------------------


def test_minimal_mapping_gets_the_defaults():
    (trigger,) = parse_declaration({"key": "abc"})
    assert trigger == WebhookTrigger(key="abc")
    assert (trigger.id, trigger.namespace, trigger.conditions, trigger.disabled) == ("webhook", None, (), False)


def test_full_mapping():
    (trigger,) = parse_declaration(
        {
            "id": "github_push",
            "key": "{{ secret('GH') }}",
            "namespace": "company.team",
            "conditions": [{"type": "ExpressionCondition", "expression": "{{ trigger.body.a == 1 }}"}],
            "disabled": True,
        }
    )
    assert trigger.id == "github_push"
    assert trigger.key == "{{ secret('GH') }}"  # kept as a template: rendered per request
    assert trigger.namespace == "company.team"
    assert trigger.disabled is True
    assert len(trigger.conditions) == 1 and isinstance(trigger.conditions[0], ExpressionCondition)
    assert trigger.conditions[0].expression == "{{ trigger.body.a == 1 }}"


def test_list_keeps_declaration_order():
    triggers = parse_declaration([{"id": "b", "key": "kb"}, {"id": "a", "key": "ka"}, {"id": "c", "key": "kc"}])
    assert [t.id for t in triggers] == ["b", "a", "c"]
    assert [t.key for t in triggers] == ["kb", "ka", "kc"]


KESTRA_YAML = """
id: webhook
type: io.kestra.plugin.core.trigger.Webhook
key: 4wjtkzwVGBM9yKnjm3yv8r
namespace: company.team
conditions:
  - type: io.kestra.plugin.core.condition.ExpressionCondition
    expression: "{{ trigger.body.hello == 'world' }}"
"""


def test_yaml_mapping_with_kestra_types():
    (trigger,) = parse_declaration(KESTRA_YAML)
    assert (trigger.id, trigger.key, trigger.namespace) == ("webhook", "4wjtkzwVGBM9yKnjm3yv8r", "company.team")
    assert trigger.conditions[0].expression == "{{ trigger.body.hello == 'world' }}"


def test_yaml_list_with_the_old_type_names():
    triggers = parse_declaration(
        """
- id: one
  type: io.kestra.core.models.triggers.types.Webhook
  key: first
  conditions:
    - type: io.kestra.core.models.conditions.types.VariableCondition
      expression: "{{ true }}"
- id: two
  type: io.kestra.plugin.core.trigger.Webhook
  key: second
"""
    )
    assert [(t.id, t.key) for t in triggers] == [("one", "first"), ("two", "second")]
    assert isinstance(triggers[0].conditions[0], ExpressionCondition)


def test_a_kestra_triggers_block_pasted_whole():
    pasted = "triggers:\n  - id: hook\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: k\n"
    triggers = parse_declaration(pasted)
    assert [t.id for t in triggers] == ["hook"]


@pytest.mark.parametrize("kind", ["io.kestra.plugin.core.trigger.Schedule", "Schedule", "io.kestra.Webhook", ""])
def test_any_other_trigger_type_is_an_error(kind):
    err = error_of({"key": "k", "type": kind})
    assert err.where == "webhook.type"
    assert "io.kestra.plugin.core.trigger.Webhook" in str(err)


def test_yaml_that_is_not_valid_says_where():
    err = error_of("key: k\nconditions: [\n")
    assert "invalid YAML at line" in str(err)


@pytest.mark.parametrize("value", [42, 4.2, True, None, "just text", "- 1\n- 2\n"])
def test_neither_mapping_nor_list(value):
    err = error_of(value)
    assert "must be" in str(err) or "mapping" in str(err)


def test_empty_list_declares_nothing():
    assert "empty list" in str(error_of([]))


def test_a_list_item_that_is_not_a_mapping():
    err = error_of([{"key": "a", "id": "a"}, "b"])
    assert err.where == "webhook[1]"


def test_duplicate_trigger_ids_in_a_list():
    err = error_of([{"id": "x", "key": "a"}, {"id": "x", "key": "b"}])
    assert err.where == "webhook[1].id" and "duplicate" in str(err)


# --- key -------------------------------------------------------------------------------------


@pytest.mark.parametrize("declaration", [{}, {"key": None}, {"key": ""}, {"key": "   "}, {"key": "\n\t"}])
def test_key_is_required_and_not_blank(declaration):
    err = error_of(declaration)
    assert err.where == "webhook.key"


def test_key_length_limit_counts_the_trimmed_key():
    assert parse_declaration({"key": "k" * MAX_KEY_LENGTH})[0].key == "k" * MAX_KEY_LENGTH
    assert parse_declaration({"key": "  " + "k" * MAX_KEY_LENGTH + "  "})
    err = error_of({"key": "k" * (MAX_KEY_LENGTH + 1)})
    assert err.where == "webhook.key" and "256" in str(err)


def test_key_template_syntax_is_checked_at_declaration():
    err = error_of({"key": "{{ secret('A' }}"})
    assert err.where == "webhook.key" and "syntax" in str(err)


def test_key_must_be_text():
    assert error_of({"key": ["a"]}).where == "webhook.key"
    assert error_of({"key": {"a": 1}}).where == "webhook.key"
    assert parse_declaration({"key": 12345})[0].key == "12345"  # YAML reads `key: 12345` as a number


# --- namespace, id, disabled, unknown properties -----------------------------------------------


@pytest.mark.parametrize("namespace", ["", "  ", "a/b", "a b", "a\tb", "a\x00b", 5, ["x"]])
def test_bad_namespaces(namespace):
    assert error_of({"key": "k", "namespace": namespace}).where == "webhook.namespace"


@pytest.mark.parametrize("namespace", ["company.team", "io.kestra.tests", "équipe.données", "a-b_c.d"])
def test_good_namespaces(namespace):
    assert parse_declaration({"key": "k", "namespace": namespace})[0].namespace == namespace


@pytest.mark.parametrize("trigger_id", ["", "-x", "_x", "a b", "a.b", "a/b", 5])
def test_bad_ids(trigger_id):
    assert error_of({"key": "k", "id": trigger_id}).where == "webhook.id"


@pytest.mark.parametrize("trigger_id", ["webhook", "W", "github_push", "a-b", "0x"])
def test_good_ids(trigger_id):
    assert parse_declaration({"key": "k", "id": trigger_id})[0].id == trigger_id


@pytest.mark.parametrize("value", ["true", "yes", 1, 0, "false"])
def test_disabled_must_be_a_boolean(value):
    assert error_of({"key": "k", "disabled": value}).where == "webhook.disabled"


def test_disabled_false_and_absent_are_the_same():
    assert parse_declaration({"key": "k", "disabled": False}) == parse_declaration({"key": "k"})


def test_a_typo_is_an_error_naming_the_property():
    err = error_of({"key": "k", "condition": [{"type": "ExpressionCondition", "expression": "{{ false }}"}]})
    assert err.where == "webhook.condition"
    assert "unknown property" in str(err)


def test_a_condition_error_names_its_path_in_a_list():
    err = error_of([{"id": "a", "key": "k"}, {"id": "b", "key": "k", "conditions": [{"type": "MultipleCondition"}]}])
    assert err.where == "webhook[1].conditions[0].type"
    assert "conditions of type MultipleCondition are not supported" in str(err)


@pytest.mark.parametrize(
    "declaration",
    [
        {"key": SECRET_KEY, "disabled": "no"},
        {"key": SECRET_KEY, "conditions": [{"type": "MultipleCondition"}]},
        {"key": SECRET_KEY, "conditions": [{"type": "Nope"}]},
        {"key": SECRET_KEY, "conditions": "{{ true }}"},
        {"key": SECRET_KEY, "namespace": "a/b"},
        {"key": SECRET_KEY, "id": "no spaces"},
        {"key": SECRET_KEY, "typo": 1},
        {"key": SECRET_KEY * 10},
        [{"key": SECRET_KEY}, {"key": SECRET_KEY, "id": "webhook"}],
        f"key: {SECRET_KEY}\nconditions: [\n",
    ],
)
def test_error_messages_never_quote_the_key(declaration):
    err = error_of(declaration)
    assert SECRET_KEY not in str(err)


def test_the_error_is_a_value_error():
    assert issubclass(WebhookDeclarationError, ValueError)


# --- the helpers DAG authors call --------------------------------------------------------------


def test_webhook_builds_a_plain_validated_mapping():
    declaration = webhook(
        "{{ flow.id }}",
        id="push",
        namespace="company.team",
        conditions=[{"type": "ExpressionCondition", "expression": "{{ true }}"}],
        disabled=False,
        description=None,  # None is left out
    )
    assert declaration == {
        "id": "push",
        "key": "{{ flow.id }}",
        "namespace": "company.team",
        "conditions": [{"type": "ExpressionCondition", "expression": "{{ true }}"}],
        "disabled": False,
    }
    assert json.loads(json.dumps(declaration)) == declaration  # serialises with the DAG's params
    assert parse_declaration(declaration)[0].id == "push"


def test_webhook_takes_python_names_for_camel_case_properties():
    declaration = webhook("k", wait=True, return_outputs=True)
    assert declaration["returnOutputs"] is True and "return_outputs" not in declaration


def test_webhook_refuses_an_invalid_declaration_at_parse_time():
    with pytest.raises(WebhookDeclarationError, match="MultipleCondition"):
        webhook("k", conditions=[{"type": "MultipleCondition"}])
    with pytest.raises(WebhookDeclarationError, match="webhook.key"):
        webhook("  ")


def test_validate_declaration_returns_its_input_unchanged():
    assert validate_declaration(KESTRA_YAML) is KESTRA_YAML
    value = [{"id": "a", "key": "x"}]
    assert validate_declaration(value) is value
    with pytest.raises(WebhookDeclarationError):
        validate_declaration({"key": "k", "type": "io.kestra.plugin.core.trigger.Schedule"})


def test_list_items_without_id_get_distinct_ids_in_order():
    from airflow_webhook_trigger import parse_declaration

    triggers = parse_declaration([{"key": "a"}, {"key": "b"}, {"key": "c", "id": "custom"}])
    assert [t.id for t in triggers] == ["webhook", "webhook_2", "custom"]


def test_explicit_duplicate_ids_in_a_list_are_refused():
    import pytest

    from airflow_webhook_trigger import WebhookDeclarationError, parse_declaration

    with pytest.raises(WebhookDeclarationError, match=r"webhook\[1\]\.id: duplicate trigger id 'webhook'"):
        parse_declaration([{"key": "a"}, {"key": "b", "id": "webhook"}])

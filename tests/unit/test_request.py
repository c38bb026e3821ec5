"""Tests for airflow_webhook_trigger.request: Kestra's body rule (object, array, else the exact
text; no body: null), headers and query parameters as lists of values, case-insensitive header
lookups, and the run's conf."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest

from airflow_webhook_trigger.request import (
    Headers,
    WebhookRequest,
    multi_dict,
    parse_body,
    trigger_variables,
)
from airflow_webhook_trigger.run_conf import run_conf

# --- the body ----------------------------------------------------------------------------------


def test_json_object():
    assert parse_body(b'{"a":1,"b":true}') == {"a": 1, "b": True}


def test_json_array():
    assert parse_body(b'[{"a":1,"b":true}]') == [{"a": 1, "b": True}]


def test_keys_with_null_values_are_kept():
    assert parse_body(b'{"a": null, "b": [null]}') == {"a": None, "b": [None]}


@pytest.mark.parametrize(
    "text",
    [
        "bla",
        '{"a": 1',  # invalid JSON: the exact text
        '{"a": 1}}',
        "[1, 2",
        "{'a': 1}",
        "  {not json}  \n",
        "42",  # a JSON scalar stays text
        "-1.5e3",
        "true",
        "null",
        '"quoted"',
        '{"a": NaN}',  # not JSON (PostgreSQL would refuse it in the conf)
        '[Infinity]',
        "héllo wörld ✓",
    ],
)
def test_everything_else_stays_the_exact_text(text):
    assert parse_body(text.encode()) == text


def test_surrounding_whitespace_is_fine_for_json():
    assert parse_body(b'  \n {"a": 1}\n') == {"a": 1}


def test_no_body_is_none():
    assert parse_body(b"") is None
    assert parse_body(b"", "application/json") is None


def test_deep_nesting_stays_text_instead_of_failing():
    text = "[" * 100_000 + "]" * 100_000
    assert parse_body(text.encode()) == text


@pytest.mark.parametrize("content_type", ["", "application/json", "text/plain", "application/vnd.github+json",
                                          "application/cloudevents+json", "text/html"])
def test_json_is_parsed_for_any_text_type(content_type):
    assert parse_body(b'{"a": 1}', content_type) == {"a": 1}


def test_binary_bodies_are_base64():
    raw = bytes(range(256))
    assert base64.b64decode(parse_body(raw)) == raw  # not UTF-8
    assert parse_body(b'{"a": 1}', "application/octet-stream") == base64.b64encode(b'{"a": 1}').decode()
    assert parse_body(b"\x89PNG", "image/png") == base64.b64encode(b"\x89PNG").decode()


# --- headers -----------------------------------------------------------------------------------


def test_headers_are_lists_stored_lower_case_and_found_in_any_case():
    headers = Headers([("X-GitHub-Event", "push"), ("Accept", "a"), ("accept", "b")])
    assert dict(headers) == {"x-github-event": ["push"], "accept": ["a", "b"]}
    assert headers["X-GITHUB-EVENT"] == ["push"] and headers["x-github-event"] == ["push"]
    assert "X-Github-Event" in headers and "x-missing" not in headers
    assert headers.get("ACCEPT") == ["a", "b"] and headers.get("nope", "d") == "d"
    assert headers.first("Accept") == "a" and headers.first("nope") is None
    with pytest.raises(KeyError):
        headers["nope"]
    assert json.loads(json.dumps(headers)) == {"x-github-event": ["push"], "accept": ["a", "b"]}


# --- query parameters --------------------------------------------------------------------------


def test_query_parameters_are_lists_of_values():
    request = WebhookRequest.from_query_string("POST", "name=john&age=12&age=13&empty=&sp=a+b&enc=%C3%A9")
    assert trigger_variables(request)["parameters"] == {
        "name": ["john"], "age": ["12", "13"], "empty": [""], "sp": ["a b"], "enc": ["é"]
    }


def test_multi_dict_keeps_order():
    assert multi_dict([("b", "1"), ("a", "2"), ("b", "3")]) == {"b": ["1", "3"], "a": ["2"]}
    assert list(multi_dict([("b", "1"), ("a", "2")])) == ["b", "a"]


# --- the request and what templates and the run see ---------------------------------------------


def test_content_type_without_parameters():
    request = WebhookRequest("POST", headers=(("Content-Type", "Application/JSON; charset=utf-8"),))
    assert request.content_type == "application/json"
    assert WebhookRequest("POST").content_type == ""


def test_trigger_variables():
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    request = WebhookRequest(
        "PUT",
        headers=(("Content-Type", "application/json"), ("X-Token", "t")),
        query=(("a", "1"),),
        body=b'{"hello": "world"}',
        received_at=at,
    )
    variables = trigger_variables(request)
    assert variables["body"] == {"hello": "world"}
    assert variables["headers"]["x-token"] == ["t"] and variables["headers"]["X-TOKEN"] == ["t"]
    assert variables["parameters"] == {"a": ["1"]}
    assert variables["date"] == at.isoformat()
    assert variables["method"] == "PUT"
    assert "formFields" not in variables


def test_get_without_body_is_null():
    assert trigger_variables(WebhookRequest("GET"))["body"] is None


def test_form_fields():
    request = WebhookRequest(
        "POST", headers=(("Content-Type", "application/x-www-form-urlencoded"),), body=b"a=1&a=2&b=%C3%A9"
    )
    variables = trigger_variables(request)
    assert variables["formFields"] == {"a": ["1", "2"], "b": ["é"]}
    assert variables["body"] == "a=1&a=2&b=%C3%A9"


def test_run_conf_is_json_with_lower_cased_headers():
    request = WebhookRequest(
        "POST",
        headers=(("X-GitHub-Event", "push"), ("Content-Type", "application/json")),
        query=(("age", "12"), ("age", "13")),
        body=b'{"hello": "{{ 7*7 }}"}',
    )
    conf = run_conf(trigger_variables(request))
    assert conf == {
        "body": {"hello": "{{ 7*7 }}"},
        "headers": {"x-github-event": ["push"], "content-type": ["application/json"]},
        "parameters": {"age": ["12", "13"]},
    }
    assert type(conf["headers"]) is dict
    assert json.loads(json.dumps(conf)) == conf

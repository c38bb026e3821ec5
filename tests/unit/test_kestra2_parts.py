"""Kestra 2.x pieces without a server: tenant URL masking and routing, ``when``, ``labels``,
``fetchType`` (a stored body never outlives a refused delivery), typed inputs, charsets,
response headers. The HTTP-level tests are tests/integration/test_kestra2.py."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from airflow_webhook_trigger import dispatch
from airflow_webhook_trigger.airflow.dag_runs import ConfRefused, CreatedRun
from airflow_webhook_trigger.declarations import parse_declaration
from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.http.blueprint import create_blueprint
from airflow_webhook_trigger.index import WebhookIndex
from airflow_webhook_trigger.inputs import InputNotConvertible, convert
from airflow_webhook_trigger.labels import parse_labels
from airflow_webhook_trigger.request import WebhookRequest, parse_body
from airflow_webhook_trigger.respond_rules import parse_responses, render_headers
from airflow_webhook_trigger.templating import TemplateRenderError
from airflow_webhook_trigger.urls import TENANT_URL_PREFIX, is_webhook_path, mask_keys

# --- 1. tenant URL -------------------------------------------------------------------------------


@pytest.mark.parametrize("text, masked", [
    ("GET /api/v1/main/executions/webhook/ns/dag/SECRET?a=1 HTTP/1.1", "GET /api/v1/main/executions/webhook/ns/dag/***?a=1 HTTP/1.1"),
    ("/api/v1/executions/webhook/ns/dag/SECRET", "/api/v1/executions/webhook/ns/dag/***"),
    ("/airflow/api/v1/acme/executions/webhook/ns/dag/SECRET/extra", "/airflow/api/v1/acme/executions/webhook/ns/dag/***"),
    ("/api/v2/dags/SECRET", "/api/v2/dags/SECRET"),
])
def test_keys_are_masked_in_both_url_forms(text, masked):
    assert mask_keys(text) == masked


def test_webhook_paths_with_and_without_tenant():
    assert is_webhook_path("/api/v1/executions/webhook/a/b/c") and is_webhook_path("/api/v1/main/executions/webhook/a")
    assert not is_webhook_path("/api/v1/a/b/executions/webhook/x") and not is_webhook_path("/api/v2/dags")


@pytest.fixture
def tenant_client(monkeypatch):
    """The Airflow 2 shape: a blueprint whose prefix holds ``<tenant>``."""
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__TENANTS", "main, acme")
    monkeypatch.setattr(dispatch.observe, "delivery", lambda *args: None)
    index = WebhookIndex.from_triggers({"d": {"key": "k", "conditions": [
        {"type": "ExpressionCondition", "expression": "{{ false }}"}]}})
    app = Flask("t")
    app.register_blueprint(create_blueprint("tenant", TENANT_URL_PREFIX.replace("{tenant}", "<tenant>"), index=index))
    return app.test_client()


def test_configured_tenants_are_served_and_others_404(tenant_client):
    assert tenant_client.post("/api/v1/main/executions/webhook/default/d/k").status_code == 204
    assert tenant_client.post("/api/v1/acme/executions/webhook/default/d/k").status_code == 204
    other = tenant_client.post("/api/v1/zzz/executions/webhook/default/d/k")
    assert other.status_code == 404 and other.json == {"message": "Not Found: webhook not found"}
    assert tenant_client.post("/api/v1/main/executions/webhook/default/d/k/x").status_code == 404


# --- 2. when ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("rendered, holds", [("true", True), ("1", True), ("yes", True), ("0.0", True),
                                             ("", False), (" ", False), ("False", False), ("0", False), ("-0", False)])
def test_when_truthiness(rendered, holds):
    (trigger,) = parse_declaration({"key": "k", "when": "{{ trigger.v }}"})
    assert trigger.conditions[0].describe() == "when {{ trigger.v }}"
    assert trigger.conditions[0].holds({"trigger": {"v": rendered}}) is holds


# --- 3. labels -------------------------------------------------------------------------------------


def test_labels_as_a_mapping_or_kestras_list():
    assert parse_labels({"a": "x", "b": True}) == (("a", "x"), ("b", "true"))
    assert parse_labels([{"key": "a", "value": "{{ 1 }}"}]) == (("a", "{{ 1 }}"),)


@pytest.mark.parametrize("labels, where", [
    ("text", "labels"), ([{"key": "a"}], "labels[0]"), ({"a": {"b": 1}}, "labels.a"),
    ([{"key": "a", "value": "1"}, {"key": "a", "value": "2"}], "labels[1].value"), ({"a": "{{ x "}, "labels.a"),
])
def test_invalid_labels_are_refused(labels, where):
    with pytest.raises(WebhookDeclarationError) as info:
        parse_labels(labels)
    assert info.value.where == where


# --- 4. fetchType ----------------------------------------------------------------------------------


def test_fetch_type_values():
    assert parse_declaration({"key": "k"})[0].fetch_type == "FETCH"
    assert parse_declaration({"key": "k", "fetchType": "STORE"})[0].stores_body
    with pytest.raises(WebhookDeclarationError, match="FETCH, STORE, NONE"):
        parse_declaration({"key": "k", "fetchType": "store"})
    with pytest.raises(WebhookDeclarationError, match="reserved"):
        parse_declaration({"key": "k", "fetchType": "STORE", "inputs": {"uri": "{{ 1 }}"}})


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__BODY_STORE", f"file://{tmp_path}")
    return tmp_path


def _decide(declaration: dict, body: bytes = b"raw", **kwargs):
    (trigger,) = parse_declaration({"key": "k", **declaration})
    return dispatch.decide(trigger, WebhookRequest("POST", body=body), "default", "d", paused=False, **kwargs)


def _files(folder):
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_stored_body_is_kept_for_a_created_run(store, monkeypatch):
    seen = {}
    monkeypatch.setattr(dispatch, "create_run", lambda run: seen.setdefault("run", run) and CreatedRun(run.run_id, "queued", True, 3))
    outcome = _decide({"fetchType": "STORE"}, body=b"\x00bytes")
    assert outcome.status == 200 and outcome.body["flowRevision"] == 3
    (stored,) = _files(store)
    assert stored.read_bytes() == b"\x00bytes"
    assert seen["run"].conf["body"] is None and seen["run"].conf["uri"] == f"file://{stored}"


@pytest.mark.parametrize("failure", ["refused", "duplicate", "label"])
def test_a_stored_body_is_deleted_when_no_run_of_ours_uses_it(store, monkeypatch, failure):
    def create_run(run):
        if failure == "refused":
            raise ConfRefused("no")
        return CreatedRun(run.run_id, "queued", created=False)

    monkeypatch.setattr(dispatch, "create_run", create_run)
    labels = {"labels": {"bad": "{{ trigger.nope.deeper }}"}} if failure == "label" else {}
    assert _decide({"fetchType": "STORE", **labels}).status in (200, 422)
    assert _files(store) == []


@pytest.mark.parametrize("when", ["in create_run", "after it"])
def test_a_stored_body_stays_when_an_error_leaves_the_run_unknown(store, monkeypatch, when):
    """The database gone mid-commit, or an error after the commit: a run may point at the body,
    so it stays (the sender's retry, with its delivery id, finds the run or makes one)."""
    def create_run(run):
        if when == "in create_run":
            raise RuntimeError("database gone")
        return CreatedRun(run.run_id, "queued", created=True)

    monkeypatch.setattr(dispatch, "create_run", create_run)
    if when == "after it":
        monkeypatch.setattr(dispatch, "_run_url", lambda *args: 1 / 0)
    with pytest.raises((RuntimeError, ZeroDivisionError)):
        _decide({"fetchType": "STORE"})
    assert len(_files(store)) == 1


def test_a_dry_run_stores_nothing(store):
    outcome = _decide({"fetchType": "STORE"}, effects=dispatch.DRY_RUN)
    assert outcome.status == 200 and _files(store) == []


def test_body_limits_follow_the_fetch_type(monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__MAX_BODY_SIZE", "10")
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__MAX_STORED_BODY_SIZE", "100")
    index = WebhookIndex.from_triggers({"s": [{"key": "a", "fetchType": "STORE"}, {"key": "b", "id": "b"}],
                                        "f": {"key": "a"}})
    assert dispatch.body_limit("default", "s", index=index) == 100
    assert dispatch.body_limit("default", "f", index=index) == 10
    assert dispatch.body_limit("default", "unknown", index=index) == 10
    # the FETCH trigger of a DAG that also stores keeps max_body_size
    (_, fetch) = index.lookup("default", "s").triggers
    outcome = dispatch.decide(fetch, WebhookRequest("POST", body=b"x" * 50), "default", "s", paused=False,
                              effects=dispatch.DRY_RUN)
    assert outcome.status == 413


def test_fetch_type_none_keeps_headers_and_parameters(monkeypatch):
    trace = dispatch.Trace()
    (trigger,) = parse_declaration({"key": "k", "fetchType": "NONE"})
    request = WebhookRequest("POST", headers=(("X-A", "1"),), query=(("p", "v"),), body=b'{"a": 1}')
    dispatch.decide(trigger, request, "default", "d", paused=False, effects=dispatch.DRY_RUN, trace=trace)
    assert trace.conf["body"] is None and trace.conf["headers"]["x-a"] == ["1"] and trace.conf["parameters"] == {"p": ["v"]}


# --- 5. typed inputs -------------------------------------------------------------------------------


@pytest.mark.parametrize("value, types, expected", [
    ("42", ("integer",), 42), (" 7 ", ("integer",), 7), (3.0, ("integer",), 3), ("2.5", ("number",), 2.5),
    ("2", ("number",), 2), ("TRUE", ("boolean",), True), ("false", ("boolean",), False), ("[1, 2]", ("array",), [1, 2]),
    ('{"a": 1}', ("object",), {"a": 1}), ({"a": 1}, ("string",), '{"a": 1}'), ([1], ("string",), "[1]"),
    (True, ("string",), "true"), (5, ("string",), "5"), (None, ("null", "integer"), None), ("5", ("null", "integer"), 5),
    ({"x": 1}, (), {"x": 1}),
])
def test_inputs_are_converted_as_kestra_converts(value, types, expected):
    assert convert(value, types) == expected


@pytest.mark.parametrize("value, types", [("seven", ("integer",)), (True, ("integer",)), ("nan", ("number",)),
                                          ("yes", ("boolean",)), ("{}", ("array",)), ("[]", ("object",)),
                                          (None, ("string",))])
def test_inputs_that_cannot_be_converted(value, types):
    with pytest.raises(InputNotConvertible):
        convert(value, types)


def test_an_input_that_cannot_be_converted_is_422_naming_it():
    (trigger,) = parse_declaration({"key": "k", "inputs": {"n": "{{ trigger.body.n }}"}})
    request = WebhookRequest("POST", headers=(("Content-Type", "application/json"),), body=b'{"n": "x"}')
    outcome = dispatch.decide(trigger, request, "default", "d", paused=False, effects=dispatch.DRY_RUN,
                              input_types={"n": ("integer",)})
    assert outcome.status == 422 and outcome.body["param"] == "n" and "cannot be converted" in outcome.body["message"]


# --- 6. bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, content_type, charset, expected", [
    ("café".encode("latin-1"), "text/plain", "ISO-8859-1", "café"),
    ("€".encode("cp1252"), "text/plain", "windows-1252", "€"),
    ('{"é": 1}'.encode("latin-1"), "application/json", "iso-8859-1", {"é": 1}),
    (b"a: 1\n", "application/yaml", None, "a: 1\n"), (b"a: 1\n", "application/x-yaml", None, "a: 1\n"),
    (b"a,b\n", "text/csv", None, "a,b\n"), (b"abc", "text/plain", "no-such-charset", "YWJj"),
])
def test_bodies_are_decoded_with_their_charset(raw, content_type, charset, expected):
    assert parse_body(raw, content_type, charset.lower() if charset else None) == expected


# --- 8. response headers -------------------------------------------------------------------------


RULE = {"conditions": [{"type": "ExpressionCondition", "expression": "{{ true }}"}]}


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Connection", "Set-Cookie", "Content-Type",
                                  "Bad Header"])
def test_unsafe_response_headers_are_refused(name):
    with pytest.raises(WebhookDeclarationError, match="header"):
        parse_responses({**RULE, "headers": {name: "x"}})


def test_response_headers_are_rendered_and_checked():
    (rule,) = parse_responses({**RULE, "headers": {"X-Hook-Secret": "{{ trigger.s }}"}})
    assert render_headers(rule, {"trigger": {"s": "abc"}}) == {"X-Hook-Secret": "abc"}
    with pytest.raises(TemplateRenderError, match="line break"):
        render_headers(rule, {"trigger": {"s": "a\r\nSet-Cookie: x"}})


def test_a_respond_rule_answers_with_its_headers():
    (trigger,) = parse_declaration({"key": "k", "respond": {**RULE, "headers": {"X-Hook-Secret": "{{ 'h' }}"}}})
    outcome = dispatch.decide(trigger, WebhookRequest("POST"), "default", "d", paused=False, effects=dispatch.DRY_RUN)
    assert outcome.responded and outcome.headers == {"X-Hook-Secret": "h"}
    assert json.dumps(outcome.headers)

""""the database is down" is never mistaken for a template's, a condition's or a key's fault.

Airflow's secrets lookup logs and swallows a failing metadata database and reports the Variable
as not set; rendering and conditions turn any error into "failed" or "false". Either would answer
a sender 404, 401 or 204 during an outage, when it must get 503 and retry. Here the database
error is raised by ``airflow.variables.get_variable`` / ``airflow.dag_runs.create_run`` (no Airflow database needed).
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from airflow_webhook_trigger import dispatch, observe
from airflow_webhook_trigger.airflow import dag_runs, variables
from airflow_webhook_trigger.conditions import evaluate, parse_conditions
from airflow_webhook_trigger.index import WebhookIndex
from airflow_webhook_trigger.request import WebhookRequest
from airflow_webhook_trigger.templating import SECRETS_CACHE, TemplateRenderError, flow_context, render, render_value

DOWN = OperationalError("SELECT 1", {}, Exception('connection to server on socket "/x" failed: No such file'))


def _down(name):
    raise DOWN


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__KEY_CACHE_SECONDS", "0")
    monkeypatch.setattr(observe, "delivery", lambda *args, **kwargs: None)
    SECRETS_CACHE.clear()
    yield
    SECRETS_CACHE.clear()


def test_a_secret_read_while_the_database_is_down_raises_the_database_error(monkeypatch):
    monkeypatch.setattr(variables, "get_variable", _down)
    with pytest.raises(OperationalError):
        render("{{ secret('PG_K') }}", flow_context("d", "ns"))
    with pytest.raises(OperationalError):
        render_value("{{ var.value.PG_K }}", flow_context("d", "ns"))


def test_a_secret_that_is_not_set_is_still_a_render_error(monkeypatch):
    monkeypatch.setattr(variables, "get_variable", lambda name: None)
    with pytest.raises(TemplateRenderError, match="not set"):
        render("{{ secret('PG_K') }}", flow_context("d", "ns"))


def test_a_condition_reading_a_secret_is_not_counted_false_when_the_database_is_down(monkeypatch):
    conditions = parse_conditions([{"type": "ExpressionCondition", "expression": "{{ secret('PG_K') == 'x' }}"}])
    monkeypatch.setattr(variables, "get_variable", lambda name: "y")
    assert not evaluate(conditions, flow_context("d", "ns")).met
    monkeypatch.setattr(variables, "get_variable", _down)
    with pytest.raises(OperationalError):
        evaluate(conditions, flow_context("d", "ns"))


@pytest.mark.parametrize("declaration", [
    {"key": "{{ secret('PG_K') }}", "namespace": "ns"},  # the key itself needs the database
    {"key": "literal", "namespace": "ns", "signature": {"type": "github", "secret": "{{ secret('PG_K') }}"}},
    {"key": "literal", "namespace": "ns",
     "conditions": [{"type": "ExpressionCondition", "expression": "{{ secret('PG_K') == 'x' }}"}]},
])
def test_the_answer_is_503_with_retry_after_not_404_401_or_204(monkeypatch, declaration):
    monkeypatch.setattr(variables, "get_variable", _down)
    index = WebhookIndex.from_triggers({"postgres_dag": declaration})
    key = "literal" if declaration["key"] == "literal" else "anything"
    outcome = dispatch.handle(WebhookRequest("POST", body=b"{}"), "ns", "postgres_dag", key, index=index)
    assert outcome.status == 503, outcome
    assert int(outcome.headers["Retry-After"]) >= 1
    assert outcome.body["message"].startswith("Service Unavailable:")


def test_creating_the_run_while_the_database_is_down_is_503(monkeypatch):
    def create_run(*args, **kwargs):
        raise DOWN

    monkeypatch.setattr(dag_runs, "create_run", create_run)
    index = WebhookIndex.from_triggers({"postgres_dag": {"key": "literal", "namespace": "ns"}})
    outcome = dispatch.handle(WebhookRequest("POST", body=b"{}"), "ns", "postgres_dag", "literal", index=index)
    assert outcome.status == 503 and "Retry-After" in outcome.headers

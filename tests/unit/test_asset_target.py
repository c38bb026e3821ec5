"""Asset targets without a database: the declaration, the decision's answer (the recording itself
faked), the dry run, the listing, the outcome's name and metrics. Recording events in Airflow's
database, exactly once under concurrency: tests/integration/test_asset_events.py."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_webhook_trigger import asset_target, dispatch, observe
from airflow_webhook_trigger.airflow.asset_events import RecordedEvent, _lock_key
from airflow_webhook_trigger.airflow.dag_runs import DagGone, DagPaused
from airflow_webhook_trigger.airflow.versions import IS_AIRFLOW_2
from airflow_webhook_trigger.declarations import parse_declaration
from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.index import WebhookIndex
from airflow_webhook_trigger.listing import list_webhooks
from airflow_webhook_trigger.request import WebhookRequest

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
DECLARATION = {"id": "orders", "key": "k", "namespace": "shop", "asset": "s3://shop/orders/",
               "inputs": {"order": "{{ trigger.body.id }}"}}


def _request(body: bytes = b'{"id": 7}', headers: dict | None = None) -> WebhookRequest:
    headers = {"Content-Type": "application/json", **(headers or {})}
    return WebhookRequest(method="POST", body=body, headers=tuple(headers.items()), query=(("a", "1"),),
                          host_url="http://airflow.test/", received_at=NOW)


def test_a_uri_is_normalized_as_airflow_normalizes_it():
    (trigger,) = parse_declaration(DECLARATION)
    assert trigger.asset.uri == "s3://shop/orders" and trigger.asset.by == "uri"
    assert trigger.asset.describe() == "s3://shop/orders"


@pytest.mark.skipif(IS_AIRFLOW_2, reason="Airflow 2 datasets have only a uri")
def test_a_mapping_names_the_asset_by_name_and_uri():
    asset = {"name": "orders", "uri": "s3://shop/orders", "group": "shop"}
    (trigger,) = parse_declaration({"key": "k", "asset": asset})
    assert (trigger.asset.name, trigger.asset.uri, trigger.asset.group, trigger.asset.by) == (
        "orders", "s3://shop/orders", "shop", "both")
    assert trigger.asset.describe() == "orders (s3://shop/orders)"
    (by_name,) = parse_declaration({"key": "k", "asset": {"name": "orders"}})
    assert (by_name.asset.name, by_name.asset.by) == ("orders", "name")


@pytest.mark.parametrize("value, where, text", [
    (3, "webhook.asset", "URI or a mapping"),
    ({"url": "s3://x"}, "webhook.asset.url", "unknown property"),
    ({"group": "g"}, "webhook.asset", "needs a uri or a name"),
    ({"uri": " "}, "webhook.asset.uri", "non-blank"),
    ("airflow://reserved", "webhook.asset", "reserved"),
])
def test_invalid_assets_say_what_to_fix(value, where, text):
    with pytest.raises(WebhookDeclarationError) as caught:
        parse_declaration({"key": "k", "asset": value})
    assert caught.value.where == where and text in str(caught.value)


def test_an_asset_target_cannot_wait():
    with pytest.raises(WebhookDeclarationError, match="nothing to wait for"):
        parse_declaration({"key": "k", "asset": "s3://x/y", "wait": True})


def test_the_event_extra_is_the_conf_and_the_source():
    extra = asset_target.event_extra({"body": {"a": "\x00"}, "order": 7}, namespace="shop", dag_id="d",
                                     trigger_id="orders", correlation_id="webhook__orders__1", delivery_id="1",
                                     received_at=NOW)
    assert extra["order"] == 7 and "\x00" not in str(extra["body"])  # made storable, as a conf is
    assert extra["webhook"] == {"namespace": "shop", "dag_id": "d", "trigger_id": "orders", "id": "webhook__orders__1",
                                "delivery_id": "1", "received_at": NOW.isoformat(), "labels": []}


def test_the_lock_key_is_a_stable_signed_64_bit_number():
    assert _lock_key("d\0webhook__x__1") == _lock_key("d\0webhook__x__1") != _lock_key("d\0webhook__x__2")
    assert -(2**63) <= _lock_key("anything") < 2**63


@pytest.fixture
def recorded(monkeypatch):
    calls = []

    def record_event(target, **kwargs):
        calls.append((target, kwargs))
        return RecordedEvent(event_id=41, asset_id=5, uri=target.uri, created=len(calls) == 1)

    monkeypatch.setattr(dispatch, "record_event", record_event)
    monkeypatch.setattr(dispatch, "ui_base_url", lambda: "https://airflow.example.com")
    monkeypatch.setattr(observe, "delivery", lambda *args, **kwargs: None)
    return calls


def test_the_answer_names_the_asset_and_the_event(recorded):
    index = WebhookIndex.from_triggers({"orders_dag": DECLARATION})
    first = dispatch.handle(_request(headers={"Idempotency-Key": "o-7"}), "shop", "orders_dag", "k", index=index)
    assert first.status == 200 and first.outcome_name == "asset_event" and first.run_id is None
    assert first.body == {
        "id": "webhook__orders__o-7", "namespace": "shop", "flowId": "orders_dag", "dag_id": "orders_dag",
        "trigger": {"id": "orders", "type": "io.kestra.plugin.core.trigger.Webhook"}, "asset": "s3://shop/orders",
        "asset_event_id": 41, "duplicate": False, "labels": [],
        "url": "https://airflow.example.com"
               + ("/datasets?uri=s3%3A%2F%2Fshop%2Forders" if IS_AIRFLOW_2 else "/assets/5"),
    }
    target, kwargs = recorded[0]
    assert target.uri == "s3://shop/orders" and kwargs["delivery_id"] == "o-7"
    assert kwargs["conf"]["order"] == 7 and kwargs["conf"]["body"] == {"id": 7}
    again = dispatch.handle(_request(headers={"Idempotency-Key": "o-7"}), "shop", "orders_dag", "k", index=index)
    assert again.body["duplicate"] is True and again.outcome_name == "duplicate"


def test_labels_go_in_the_event_and_the_answer(recorded):
    """A run keeps its labels in its note and the answer; an event keeps them in ``extra.webhook``."""
    labelled = {**DECLARATION, "labels": {"team": "shop", "order": "{{ trigger.body.id }}"}}
    index = WebhookIndex.from_triggers({"orders_dag": labelled})
    answer = dispatch.handle(_request(), "shop", "orders_dag", "k", index=index)
    expected = [{"key": "team", "value": "shop"}, {"key": "order", "value": "7"}]
    assert answer.status == 200 and answer.body["labels"] == expected
    (_, kwargs), = recorded
    assert kwargs["labels"] == expected
    extra = asset_target.event_extra({}, namespace="shop", dag_id="d", trigger_id="orders", correlation_id="c",
                                     delivery_id=None, received_at=NOW, labels=expected)
    assert extra["webhook"]["labels"] == expected


@pytest.mark.parametrize("reason, status", [(DagGone, 404), (DagPaused, 409)])
def test_the_declaring_dag_gone_or_paused_meanwhile(monkeypatch, reason, status):
    def record_event(target, **kwargs):
        raise reason("orders_dag")

    monkeypatch.setattr(dispatch, "record_event", record_event)
    monkeypatch.setattr(observe, "delivery", lambda *args, **kwargs: None)
    index = WebhookIndex.from_triggers({"orders_dag": DECLARATION})
    assert dispatch.handle(_request(), "shop", "orders_dag", "k", index=index).status == status


def test_paused_is_409_before_anything_is_recorded(recorded):
    index = WebhookIndex.from_triggers({"orders_dag": DECLARATION}, paused={"orders_dag"})
    assert dispatch.handle(_request(), "shop", "orders_dag", "k", index=index).status == 409
    assert recorded == []


def test_the_dry_run_records_nothing(recorded):
    (trigger,) = parse_declaration(DECLARATION)
    trace = dispatch.Trace()
    outcome = dispatch.decide(trigger, _request(), "shop", "orders_dag", paused=False, effects=dispatch.DRY_RUN,
                              trace=trace)
    assert outcome.status == 200 and "s3://shop/orders" in outcome.reason
    assert trace.stopped_at == "asset_event" and trace.conf["order"] == 7 and recorded == []


def test_the_listing_shows_the_asset():
    index = WebhookIndex.from_triggers({"orders_dag": DECLARATION, "plain": {"key": "k"}})
    listed = {w["dag_id"]: w for w in list_webhooks(index, base_url="https://a")["webhooks"]}
    assert listed["orders_dag"]["asset"] == "s3://shop/orders" and listed["plain"]["asset"] is None


def test_metrics_count_asset_events_and_their_duplicates(monkeypatch):
    counted = []

    class Stats:
        def incr(self, name, tags=None):
            counted.append(name)

        def timing(self, *args, **kwargs):
            pass

    monkeypatch.setattr(observe.metrics, "stats", lambda: Stats())
    created = dispatch.Outcome(200, {}, dag_id="d", asset_event_id=3)
    observe._metrics(created, created.outcome_name, 0.01)
    duplicate = dispatch.Outcome(200, {}, dag_id="d", asset_event_id=3, duplicate=True)
    observe._metrics(duplicate, duplicate.outcome_name, 0.01)
    assert "webhook_trigger.asset_events" in counted and "webhook_trigger.deliveries.asset_event" in counted
    assert "webhook_trigger.duplicates" in counted and "webhook_trigger.runs_created" not in counted


def test_webhook_takes_the_asset_object_a_dag_file_has():
    from airflow_webhook_trigger import webhook

    if IS_AIRFLOW_2:
        from airflow.datasets import Dataset as Asset  # the 2.x name
    else:
        from airflow.sdk import Asset  # the DAG authors' class
    declaration = webhook("k", asset=Asset("s3://shop/orders/"))
    assert declaration["asset"]["uri"] == "s3://shop/orders"  # a plain mapping: the param serializes
    (trigger,) = parse_declaration(declaration)
    assert trigger.asset.uri == "s3://shop/orders"

"""The Webhooks page's pieces that need no server: reading audit rows, rendering the
page (escaping, links under a sub-path), and how the plugin registers it in the Airflow 3 UI."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from airflow_webhook_trigger.ui import URL_PREFIX, plugin_entries
from airflow_webhook_trigger.ui.render import base_url as _base_url
from airflow_webhook_trigger.ui.render import render_page as _render
from airflow_webhook_trigger.ui.render import ui_root as _ui_root
from airflow_webhook_trigger.ui.deliveries import Delivery, from_row
from airflow_webhook_trigger.ui.webhooks import InvalidRow, Page, WebhookRow
from airflow_webhook_trigger.urls import webhook_url as full_url

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_from_row_reads_the_audit_entry_shape():
    extra = {"namespace": "ns", "trigger": "gh", "status": 401, "outcome": "401", "reason": "signature check failed",
             "duration_ms": 3.25, "method": "POST"}
    d = from_row(7, WHEN, "dag", None, "webhook:ns/gh", json.dumps(extra))
    assert (d.namespace, d.dag_id, d.trigger_id, d.status, d.outcome, d.reason, d.duration_ms, d.method) == (
        "ns", "dag", "gh", 401, "401", "signature check failed", 3.25, "POST")
    assert d.webhook == ("ns", "dag", "gh")


@pytest.mark.parametrize("extra", [None, "", "not json", "[1, 2]", json.dumps({"status": "abc", "duration_ms": "x"})])
def test_from_row_survives_rows_it_did_not_write(extra):
    d = from_row(1, None, "dag", "run", "webhook:ns/trig", extra)
    assert (d.namespace, d.trigger_id, d.run_id) == ("ns", "trig", "run")
    assert d.status is None and d.duration_ms is None and d.outcome == "unknown"


def test_from_row_without_a_trigger_is_the_404_on_a_known_dag():
    extra = json.dumps({"namespace": "ns", "trigger": None, "status": 404, "outcome": "404", "reason": "no trigger"})
    d = from_row(1, WHEN, "dag", None, "webhook:ns", extra)
    assert d.trigger_id is None and d.webhook == ("ns", "dag", None)


def _request(root_path: str, host: str = "airflow.example.com"):
    url = SimpleNamespace(scheme="https", netloc=host)
    return SimpleNamespace(scope={"root_path": root_path}, url=url)


def _page(**overrides) -> Page:
    hostile = "<script>alert(1)</script>"
    row = WebhookRow("ns", "my_dag", "gh", "https://h/api/v1/executions/webhook/ns/my_dag/***",
                     conditions=[f"ExpressionCondition {{{{ trigger.body.x == '{hostile}' }}}}"], signature="github",
                     rate_limit=None, wait=None, description=hostile, disabled=False, paused=True, can_reveal=False)
    delivery = Delivery(1, WHEN, "my_dag", "ns", "gh", "manual__1+00:00", 200, "triggered", hostile, 12.5, "POST")
    row.deliveries.append(delivery)
    page = Page([row], [InvalidRow("bad_dag", "/dags/bad.py", f"webhook.key: {hostile}")], [delivery])
    for name, value in overrides.items():
        setattr(page, name, value)
    return page


def test_render_escapes_everything_a_dag_author_or_sender_wrote():
    html = _render(_request(URL_PREFIX), _page())
    assert "<script>alert(1)</script>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # condition, description, reason, invalid
    assert ">DAG paused<" in html and "key hidden" in html and 'class="reveal"' not in html


def test_render_links_into_the_ui_under_its_sub_path():
    html = _render(_request(f"/airflow{URL_PREFIX}"), _page())
    assert 'data-api="/airflow/webhook-trigger-ui/api/url"' in html
    assert 'href="/airflow/dags/my_dag"' in html
    assert 'href="/airflow/dags/my_dag/runs/manual__1%2B00%3A00"' in html
    assert 'href="/dags/' not in html


def test_render_without_audit_log_access_or_webhooks():
    html = _render(_request(URL_PREFIX), _page(deliveries=None, rows=[], invalid=[]))
    assert "You may not read the audit log" in html
    assert "No DAG you may read declares a webhook" in html
    one = _render(_request(URL_PREFIX), _page(rows=[], invalid=[], deliveries=[], dag_id="lonely"))
    assert "declares no webhook" in one and "No delivery yet" in one


@pytest.mark.airflow3_only  # the page and [api] base_url are Airflow 3's; 2.x links use [webserver] base_url
def test_base_url_is_the_configured_one_else_the_requests_origin(monkeypatch):
    request = _request(f"/airflow{URL_PREFIX}")
    assert _ui_root(request) == "/airflow"
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__BASE_URL", "")
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "")
    assert _base_url(request) == "https://airflow.example.com/airflow"
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://public.example.com/af/")
    assert _base_url(request) == "https://public.example.com/af"


def test_full_url_quotes_each_part():
    url = full_url("https://h/", "a.b", "my dag", "k/e y")
    assert url == "https://h/api/v1/executions/webhook/a.b/my%20dag/k%2Fe%20y"


@pytest.mark.requires_airflow(3, 1)  # external_views, RESERVED_URL_PREFIXES: 3.1+
def test_plugin_entries_fit_the_airflow_3_ui():
    from airflow.api_fastapi.app import RESERVED_URL_PREFIXES
    from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse

    app, views = plugin_entries()
    assert not any(app["url_prefix"].startswith(prefix) for prefix in RESERVED_URL_PREFIXES)
    for view in views:
        ExternalViewResponse.model_validate(view)  # what /api/v2/plugins will serve to the UI
        assert not view["href"].startswith("/")  # relative: works when Airflow is served under a path
    assert {v["destination"] for v in views} == {"nav", "dag"}
    assert len({v["url_route"] for v in views}) == len(views)


def test_render_shows_an_asset_target_instead_of_a_run():
    page = _page()
    page.rows[0].asset = "s3://<shop>/orders"
    page.rows[0].conditions = []
    html = _render(_request(URL_PREFIX), page)
    assert "→ asset <code>s3://&lt;shop&gt;/orders</code>" in html
    assert "every request records an asset event" in html

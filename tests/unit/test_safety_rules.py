"""The safety rules without a server: secret rotation on the public vectors, masked headers and
parameters, literal keys, the decoy key of unknown DAGs, the wait cap, log-once, the bounded
secret cache, and the bridge refusing cut-off bodies (the HTTP tests: tests/integration/test_safety.py)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging

import pytest

from airflow_webhook_trigger import config, dispatch, sender_check, templating, trigger_lookup
from airflow_webhook_trigger.declarations import parse_declaration
from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.index import WebhookIndex
from airflow_webhook_trigger.log_once import LogOnce
from airflow_webhook_trigger.request import WebhookRequest
from airflow_webhook_trigger.run_conf import run_conf
from airflow_webhook_trigger.wait_slots import WaitSlots

from test_signatures import (GITHUB_VECTORS, SLACK_BODY, SLACK_SECRET, SLACK_SIG, SLACK_TS, STD_BODY, STD_ID,
                             STD_SECRET, STD_SIG, STD_TS, STRIPE_BODY, STRIPE_SECRET, STRIPE_T, STRIPE_V1)


@pytest.fixture
def variables(monkeypatch):
    """Set Airflow Variables (as AIRFLOW_VAR_*) for secret(), with no cache in between."""
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__KEY_CACHE_SECONDS", "0")
    templating.SECRETS_CACHE.clear()

    def set_variables(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"AIRFLOW_VAR_{name}", value)

    yield set_variables
    templating.SECRETS_CACHE.clear()


# --- 8. secret rotation: any listed secret signs, for every scheme -------------------------------

GH_SECRET, GH_BODY, GH_SIG = GITHUB_VECTORS[0]
SHOPIFY_SIG = base64.b64encode(hmac.new(b"shopify-secret", b"{}", hashlib.sha256).digest()).decode()
HMAC_SIG = "sha256=" + hmac.new(b"generic-secret", b"{}", hashlib.sha256).hexdigest()
SCHEMES = {  # type -> (extra declaration, the vector's secret, body, headers, "now")
    "github": ({}, GH_SECRET, GH_BODY, {"X-Hub-Signature-256": GH_SIG}, None),
    "gitlab": ({}, "gitlab-token", b"{}", {"X-Gitlab-Token": "gitlab-token"}, None),
    "stripe": ({}, STRIPE_SECRET, STRIPE_BODY, {"Stripe-Signature": f"t={STRIPE_T},v1={STRIPE_V1}"}, STRIPE_T),
    "slack": ({}, SLACK_SECRET, SLACK_BODY, {"X-Slack-Signature": SLACK_SIG, "X-Slack-Request-Timestamp": str(SLACK_TS)},
              SLACK_TS),
    "standard": ({}, STD_SECRET, STD_BODY, {"webhook-id": STD_ID, "webhook-timestamp": str(STD_TS),
                                            "webhook-signature": STD_SIG}, STD_TS),
    "shopify": ({}, "shopify-secret", b"{}", {"X-Shopify-Hmac-SHA256": SHOPIFY_SIG}, None),
    "hmac": ({"header": "X-Sig", "prefix": "sha256="}, "generic-secret", b"{}", {"X-Sig": HMAC_SIG}, None),
}


@pytest.mark.parametrize("kind", sorted(SCHEMES))
@pytest.mark.parametrize("position", ["old", "new"])
def test_a_request_signed_with_any_listed_secret_passes(kind, position, variables, monkeypatch):
    extra, secret, body, headers, now = SCHEMES[kind]
    other = "whsec_" + base64.b64encode(b"another key entirely").decode() if kind == "standard" else "another-secret"
    variables(ROT_OLD=secret if position == "old" else other, ROT_NEW=secret if position == "new" else other)
    if now is not None:
        monkeypatch.setattr("airflow_webhook_trigger.signatures.time.time", lambda: float(now))
    declaration = {"key": "{{ secret('ROT_OLD') }}", "signature": {
        "type": kind, "secret": ["{{ secret('ROT_OLD') }}", "{{ secret('ROT_NEW') }}"], **extra}}
    trigger = parse_declaration(declaration)[0]
    assert trigger.signature.secrets == ("{{ secret('ROT_OLD') }}", "{{ secret('ROT_NEW') }}")
    context = templating.flow_context("d", "ns")
    request = WebhookRequest("POST", headers=tuple(headers.items()), body=body)
    assert sender_check.signed_by_any(trigger, request, context, "d")
    variables(ROT_OLD=other, ROT_NEW="yet-another")  # signed by neither: refused
    templating.SECRETS_CACHE.clear()
    assert not sender_check.signed_by_any(trigger, request, context, "d")


@pytest.mark.parametrize("secret", [[], ["{{ secret('A') }}", "literal"], ["{{ secret('A') }}", ""], "plain"])
def test_every_listed_secret_must_read_a_secret(secret):
    with pytest.raises(WebhookDeclarationError, match="signature.secret"):
        parse_declaration({"key": "k", "signature": {"type": "github", "secret": secret}})


# --- 7. masked headers and parameters ----------------------------------------------------------


def test_operator_masked_headers_and_parameters(monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__MASKED_HEADERS", " X-Custom-Token , x-other ")
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__MASKED_PARAMETERS", "Token")
    from airflow_webhook_trigger.request import trigger_variables

    request = WebhookRequest("POST", headers=(("X-Custom-Token", "t"), ("Authorization", "a"), ("X-Kept", "k")),
                             query=(("token", "p"), ("TOKEN", "q"), ("page", "2")))
    variables = trigger_variables(request)
    conf = run_conf(variables)
    assert conf["headers"] == {"x-custom-token": ["***"], "authorization": ["***"], "x-kept": ["k"]}
    assert conf["parameters"] == {"token": ["***"], "TOKEN": ["***"], "page": ["2"]}
    assert variables["headers"]["X-Custom-Token"] == ["t"] and variables["parameters"]["token"] == ["p"]  # conditions


# --- 6. literal keys ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["literal", "{{ flow.id }}", "{{ 'abc' }}"])
def test_literal_keys_are_refused_when_not_allowed(key, monkeypatch):
    parse_declaration({"key": key})  # allowed by default (Kestra)
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__ALLOW_LITERAL_KEYS", "False")
    with pytest.raises(WebhookDeclarationError, match="must read a secret"):
        parse_declaration({"key": key})
    for secret_key in ("{{ secret('K') }}", "{{ var.value.K }}-{{ flow.id }}", "{{ conn.c.password }}"):
        parse_declaration({"key": secret_key})


def test_the_listing_flags_literal_keys():
    from airflow_webhook_trigger.listing import list_webhooks

    index = WebhookIndex.from_triggers({"lit": {"key": "abc"}, "sec": {"key": "{{ secret('K') }}"}})
    flags = {w["dag_id"]: w["literal_key"] for w in list_webhooks(index, base_url="http://h/airflow")["webhooks"]}
    assert flags == {"lit": True, "sec": False}


# --- 4. an unknown DAG does the work of a known one ---------------------------------------------


def test_an_unknown_dag_renders_and_compares_a_decoy_key(monkeypatch):
    rendered = []
    real_render = trigger_lookup.render
    monkeypatch.setattr(trigger_lookup, "render", lambda source, context: rendered.append(source) or real_render(source, context))
    index = WebhookIndex.from_triggers({"known": {"key": "{{ secret('K') }}"}})
    outcome = dispatch._handle(WebhookRequest("POST"), "default", "unknown", "some-key", index)
    assert outcome.status == 404 and outcome.dag_id is None
    assert rendered == [trigger_lookup._DECOY_KEY]


# --- 5. the wait cap ---------------------------------------------------------------------------


def test_the_wait_cap_refuses_before_the_run(monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__MAX_CONCURRENT_WAITS", "2")
    slots = WaitSlots()
    monkeypatch.setattr(dispatch, "WAIT_SLOTS", slots)
    created = []
    monkeypatch.setattr(dispatch, "create_run", lambda run: created.append(run) or None)
    trigger = parse_declaration({"key": "k", "wait": True})[0]
    assert slots.acquire() and slots.acquire()  # two requests already wait
    outcome = dispatch.decide(trigger, WebhookRequest("POST"), "default", "d", paused=False)
    assert outcome.status == 503 and outcome.headers["Retry-After"] and created == []
    assert "max_concurrent_waits" in outcome.body["message"]
    slots.release()
    monkeypatch.setattr(dispatch, "_create_and_answer", lambda *args: dispatch.Outcome(200))
    assert dispatch.decide(trigger, WebhookRequest("POST"), "default", "d", paused=False).status == 200
    assert slots.taken == 1  # its slot was given back


# --- 10. log once, bounded cache ---------------------------------------------------------------


def test_a_warning_is_logged_once_per_subject_per_window(caplog):
    once = LogOnce(window=60, max_subjects=3)
    logger = logging.getLogger("test_safety_rules")
    with caplog.at_level(logging.WARNING, logger="test_safety_rules"):
        for _ in range(100):
            once.warn(logger, ("key", "d", "t"), "key of %s failed", "t")
        once.warn(logger, ("key", "d", "u"), "key of %s failed", "u")
    assert [r.getMessage() for r in caplog.records] == ["key of t failed", "key of u failed"]
    for i in range(10):
        once.warn(logger, i, "x")
    assert len(once._last) == 3  # bounded


def test_the_secret_cache_is_bounded(monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__KEY_CACHE_SECONDS", "60")
    cache = templating._TTLCache(max_entries=100)
    for i in range(1000):
        assert cache.get("var", f"name{i}", lambda name: name.upper()) == f"NAME{i}"
    assert len(cache._values) == 100 and ("var", "name999") in cache._values


def test_render_failures_of_a_key_log_once(caplog, variables):
    index = WebhookIndex.from_triggers({"d": [{"id": "broken", "key": "{{ secret('NOT_SET_ANYWHERE') }}"}]})
    trigger_lookup.WARN_ONCE._last.clear()
    with caplog.at_level(logging.WARNING, logger="airflow_webhook_trigger.dispatch"):
        for _ in range(50):
            assert dispatch._handle(WebhookRequest("POST"), "default", "d", "k", index).status == 404
    assert len([r for r in caplog.records if "failed to render" in r.getMessage()]) == 1


# --- 2. the bridge never hands on a cut-off body -------------------------------------------------


def _run_bridge(messages):
    from airflow_webhook_trigger.http.bridge import BufferedWSGIBridge

    called, sent = [], []

    def app(environ, start_response):
        called.append(environ["wsgi.input"].read())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/ns/dag/key",
             "raw_path": b"/ns/dag/key", "root_path": "", "query_string": b"", "headers": [],
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1)}
    asyncio.run(BufferedWSGIBridge(app, workers=1, body_limit=lambda scope: 1000)(scope, receive, send))
    return called, sent


def test_a_body_cut_off_by_a_disconnect_never_reaches_the_app():
    called, sent = _run_bridge([{"type": "http.request", "body": b'{"a": ', "more_body": True},
                                {"type": "http.disconnect"}])
    assert called == [] and sent == []
    called, sent = _run_bridge([{"type": "http.request", "body": b'{"a": ', "more_body": True},
                                {"type": "http.request", "body": b"1}", "more_body": False}])
    assert called == [b'{"a": 1}'] and sent[0]["status"] == 200


def test_the_bridge_tells_the_app_when_the_client_goes():
    from airflow_webhook_trigger.http import blueprint, bridge
    from airflow_webhook_trigger.http.blueprint import DISCONNECTED
    from airflow_webhook_trigger.http.bridge import DISCONNECTED as BRIDGE_KEY, BufferedWSGIBridge

    assert DISCONNECTED == BRIDGE_KEY and blueprint.STEP_ASIDE == bridge.STEP_ASIDE
    seen = []

    def app(environ, start_response):
        seen.append(environ[DISCONNECTED].wait(10))  # a wait that the disconnect ends
        start_response("200 OK", [])
        return [b""]

    messages = [{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}]

    async def receive():
        await asyncio.sleep(0.2)
        return messages.pop(0) if messages else await asyncio.sleep(3600)

    async def send(message):
        pass

    scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/", "raw_path": b"/",
             "root_path": "", "query_string": b"", "headers": [], "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1)}
    asyncio.run(BufferedWSGIBridge(app, workers=1, body_limit=lambda scope: 1000)(scope, receive, send))
    assert seen == [True]


def test_gunicorn_short_bodies_are_refused():
    import io

    from airflow_webhook_trigger.http.blueprint import BodyCutOff, read_body

    with pytest.raises(BodyCutOff):
        read_body({"CONTENT_LENGTH": "1000", "wsgi.input": io.BytesIO(b"0123456789")}, 5000)

    class Broken(io.RawIOBase):
        def read(self, size=-1):
            raise OSError("no more data")  # gunicorn's NoMoreData / ChunkMissingTerminator

    with pytest.raises(BodyCutOff):
        read_body({"wsgi.input": Broken()}, 5000)
    assert read_body({"CONTENT_LENGTH": "3", "wsgi.input": io.BytesIO(b"abc")}, 5000) == b"abc"


def test_config_helpers(monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__MASKED_HEADERS", "A, b ,,C")
    assert config.get_names("masked_headers") == {"a", "b", "c"}
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__ALLOW_LITERAL_KEYS", "false")
    assert config.get_bool("allow_literal_keys") is False


def test_every_example_dag_reads_its_key_from_a_secret(monkeypatch):
    """The examples are what people copy: none has a literal key (with allow_literal_keys False
    each still parses; tools/stack.py sets their Variables for the tests)."""
    import runpy
    from pathlib import Path

    try:
        from airflow.sdk import DAG
    except ImportError:  # Airflow 2: the example DAGs are written for Airflow 3
        pytest.skip("Airflow 3 only")

    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__ALLOW_LITERAL_KEYS", "False")
    params = []
    real_init = DAG.__init__
    monkeypatch.setattr(DAG, "__init__", lambda self, *a, **k: params.append(k.get("params")) or real_init(self, *a, **k))
    files = sorted((Path(__file__).resolve().parents[2] / "example_dags").glob("*.py"))
    for file in files:
        runpy.run_path(str(file))
    assert len(params) == len(files)
    declaring = [found for found in params if found and "webhook" in found]  # not the asset's consumer
    assert len(declaring) >= len(files) - 1
    for found in declaring:
        assert all("secret(" in trigger.key for trigger in parse_declaration(found["webhook"]))

"""The fast paths keep behaviour exactly:

- ``templating.render`` answers text without ``{`` itself: it must equal Jinja's rendering;
- ``config.get`` caches ``conf.get``: an environment change must still apply at once;
- ``BufferedWSGIBridge`` replaces a2wsgi for the webhook app: same environ, whole body (capped
  above the limit so the blueprint still answers 413), whole answer, JSON 500 on a WSGI failure.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_webhook_trigger import config
from airflow_webhook_trigger.http.bridge import BufferedWSGIBridge
from airflow_webhook_trigger.templating import _compiled, render


@given(st.text().filter(lambda t: "{" not in t and "\r" not in t))
def test_literal_text_renders_as_jinja_would(text):
    assert render(text, {}) == _compiled(text).render({})


@pytest.mark.parametrize("text", ["{{ 1 + 1 }}", "a\r\nb", "{# comment #}x", "{% if true %}y{% endif %}"])
def test_templates_still_go_through_jinja(text):
    assert render(text, {}) == _compiled(text).render({})


def test_config_cache_follows_the_environment(monkeypatch):
    config.clear_cache()
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__MAX_BODY_SIZE", "123")
    assert config.get_int("max_body_size") == 123
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__MAX_BODY_SIZE", "456")
    assert config.get_int("max_body_size") == 456
    monkeypatch.delenv("AIRFLOW__WEBHOOK_TRIGGER__MAX_BODY_SIZE")
    assert config.get_int("max_body_size") == 1048576


def test_config_cache_reuses_a_value_within_its_lifetime(monkeypatch):
    from airflow.configuration import conf

    config.clear_cache()
    calls = []
    real_get = conf.get
    monkeypatch.setattr(conf, "get", lambda *a, **k: calls.append(a) or real_get(*a, **k))
    for _ in range(5):
        config.get("retry_after")
    assert len(calls) == 1
    config.clear_cache()
    config.get("retry_after")
    assert len(calls) == 2


def _scope(path="/ns/dag/key", headers=((b"content-type", b"application/json"),)):
    return {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http", "path": path,
            "raw_path": path.encode(), "root_path": "", "query_string": b"a=1", "headers": list(headers),
            "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 5555)}


def _serve(app, scope, chunks):
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _echo(environ, start_response):
    body = environ["wsgi.input"].read()
    payload = json.dumps({"body": body.decode(), "query": environ["QUERY_STRING"], "path": environ["PATH_INFO"],
                          "has_scope": "asgi.scope" in environ}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("X-Two", "2")])
    return [payload[:5], payload[5:]]


def test_bridge_passes_the_whole_body_and_sends_the_whole_answer():
    bridge = BufferedWSGIBridge(_echo, workers=2, body_limit=lambda scope: 1000)
    sent = _serve(bridge, _scope(), [b'{"a":', b" 1}"])
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 201
    assert (b"x-two", b"2") in sent[0]["headers"]
    assert len(sent) == 2 and sent[1].get("more_body", False) is False
    assert json.loads(sent[1]["body"]) == {"body": '{"a": 1}', "query": "a=1", "path": "/ns/dag/key", "has_scope": True}


def test_bridge_stops_reading_past_the_limit_so_the_app_can_refuse():
    bridge = BufferedWSGIBridge(_echo, workers=1, body_limit=lambda scope: 10)
    sent = _serve(bridge, _scope(), [b"x" * 8, b"y" * 8, b"z" * 8])
    assert json.loads(sent[1]["body"])["body"] == "x" * 8 + "y" * 8  # 16 > 10: enough to refuse, not all


def test_a_failing_wsgi_app_still_answers_json_500():
    def broken(environ, start_response):
        raise RuntimeError("boom")

    sent = _serve(BufferedWSGIBridge(broken, workers=1, body_limit=lambda scope: 10), _scope(), [b""])
    assert sent[0]["status"] == 500
    assert "Internal Server Error" in json.loads(sent[1]["body"])["message"]


def test_websocket_is_closed():
    sent = _serve(BufferedWSGIBridge(_echo, workers=1, body_limit=lambda scope: 10), {"type": "websocket"}, [])
    assert sent == [{"type": "websocket.close", "code": 1000}]


def test_literal_text_is_checked_without_compiling():
    from airflow_webhook_trigger.templating import TemplateRenderError, check_syntax

    _compiled.cache_clear()
    check_syntax("a-literal-key-%} #}")
    assert _compiled.cache_info().currsize == 0
    with pytest.raises(TemplateRenderError):
        check_syntax("{{ broken")

"""Tests for airflow_webhook_trigger.templating: the sandbox, strict undefined, Kestra's
truthiness, typed rendering, request data staying data, and ``secret()``/``var`` through real
Airflow Variables (``AIRFLOW_VAR_*`` environment variables, Airflow's first secrets backend)."""

from __future__ import annotations

import pytest

from airflow_webhook_trigger.request import Headers
from airflow_webhook_trigger.templating import (
    SECRETS_CACHE,
    TemplateRenderError,
    check_syntax,
    flow_context,
    is_true,
    render,
    render_value,
)


@pytest.fixture(autouse=True)
def fresh_secrets(monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__KEY_CACHE_SECONDS", "0")
    SECRETS_CACHE.clear()
    yield
    SECRETS_CACHE.clear()


def ctx(**trigger):
    context = flow_context("my_dag", "company.team")
    context["trigger"] = trigger
    return context


# --- flow.*, strict undefined, syntax --------------------------------------------------------


def test_flow_id_and_namespace():
    assert render("{{ flow.id }}/{{ flow.namespace }}", ctx()) == "my_dag/company.team"


@pytest.mark.parametrize(
    "source", ["{{ nope }}", "{{ flow.nope }}", "{{ trigger.body.x }}", "{{ nope | default('') }}x{{ flow.x }}"]
)
def test_undefined_is_an_error(source):
    with pytest.raises(TemplateRenderError, match="undefined"):
        render(source, ctx(body={}))


def test_undefined_with_an_explicit_default_is_fine():
    assert render("{{ trigger.body.x | default('none') }}", ctx(body={})) == "none"
    assert render("{{ trigger.body.x is defined }}", ctx(body={})) == "False"


def test_syntax_errors():
    check_syntax("{{ a }} {% if b %}c{% endif %}")
    for bad in ("{{ a", "{% if %}", "{{ a }} {% endif %}", "{{ 'x' | }}"):
        with pytest.raises(TemplateRenderError, match="syntax error"):
            check_syntax(bad)
    with pytest.raises(TemplateRenderError, match="syntax error"):
        render("{{ a", {})


def test_type_errors_become_render_errors():
    with pytest.raises(TemplateRenderError, match="TypeError"):
        render("{{ 1 + 'a' }}", ctx())
    with pytest.raises(TemplateRenderError, match="ZeroDivisionError"):
        render("{{ 1 / 0 }}", ctx())


# --- the sandbox -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ trigger.body.__class__ }}",
        "{{ flow.__init__.__globals__ }}",
        "{{ secret.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ ().__class__.__base__.__subclasses__() }}",
        "{{ trigger.headers.__dict__ }}",
    ],
)
def test_the_sandbox_refuses_python_internals(source):
    with pytest.raises(TemplateRenderError):
        render(source, ctx(body={"a": 1}, headers=Headers([("A", "b")])))


def test_request_text_is_never_rendered_as_a_template():
    body = {"hello": "{{ 7*7 }}", "code": "{% for i in range(3) %}x{% endfor %}", "x": "{{ ''.__class__ }}"}
    context = ctx(body=body)
    assert render("{{ trigger.body.hello }}", context) == "{{ 7*7 }}"
    assert render("{{ trigger.body.code }}", context) == "{% for i in range(3) %}x{% endfor %}"
    assert render_value("{{ trigger.body.x }}", context) == "{{ ''.__class__ }}"
    assert render("{{ trigger.body.hello == '{{ 7*7 }}' }}", context) == "True"
    assert render("{{ trigger.body.hello == '49' }}", context) == "False"


def test_no_autoescape():
    assert render("{{ trigger.body }}", ctx(body="<a href='x'>&</a>")) == "<a href='x'>&</a>"


# --- truthiness ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\t", "false", "False", "FALSE", "  false \n", "fAlSe"])
def test_false_only_when_blank_or_false(text):
    assert is_true(text) is False


@pytest.mark.parametrize("text", ["true", "True", "0", "no", "none", "None", "null", "[]", "{}", "falsey", "x"])
def test_everything_else_is_true(text):
    assert is_true(text) is True


def test_jinja_booleans_render_as_kestra_expects():
    assert is_true(render("{{ 1 == 2 }}", {})) is False  # renders "False"
    assert is_true(render("{{ 1 == 1 }}", {})) is True


# --- render_value: typed when the template is one expression ------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ trigger.body.n }}", 42),
        ("{{ trigger.body.f }}", 1.5),
        ("{{ trigger.body.ok }}", True),
        ("{{ trigger.body.none }}", None),
        ("{{ trigger.body.labels }}", ["a", "b"]),
        ("{{ trigger.body.obj }}", {"k": [1]}),
        ("{{ trigger.body.s }}", "12"),  # a string stays a string: never literal_eval-ed
        ("{{ trigger.body.list_text }}", "[1, 2]"),
        ("{{- trigger.body.n -}}", 42),
        ("{{ trigger.body.n }} items", "42 items"),
        ("{{ trigger.body.n }}{{ trigger.body.n }}", "4242"),
        ("plain", "plain"),
    ],
)
def test_render_value(source, expected):
    body = {"n": 42, "f": 1.5, "ok": True, "none": None, "labels": ["a", "b"], "obj": {"k": [1]}, "s": "12",
            "list_text": "[1, 2]"}
    value = render_value(source, ctx(body=body))
    assert value == expected and type(value) is type(expected)


def test_render_value_undefined_is_an_error():
    with pytest.raises(TemplateRenderError, match="undefined"):
        render_value("{{ trigger.body.missing }}", ctx(body={}))


def test_headers_are_case_insensitive_in_templates():
    context = ctx(headers=Headers([("X-GitHub-Event", "push")]))
    for source in ("{{ trigger.headers['x-github-event'][0] }}", "{{ trigger.headers['X-GitHub-Event'][0] }}",
                   "{{ trigger.headers['X-GITHUB-EVENT'][0] }}", "{{ trigger.headers.get('x-GitHub-event')[0] }}"):
        assert render(source, context) == "push"
    assert render("{{ 'X-Github-Event' in trigger.headers }}", context) == "True"


# --- secret(), var, caching ----------------------------------------------------------------------


def test_secret_reads_an_airflow_variable(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_ENDPOINT_SECRET", "s3cr3t")
    assert render("{{ secret('ENDPOINT_SECRET') }}", ctx()) == "s3cr3t"
    assert render("{{ var.value.ENDPOINT_SECRET }}", ctx()) == "s3cr3t"
    assert render("{{ var.value.get('ENDPOINT_SECRET') }}", ctx()) == "s3cr3t"


def test_var_json(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_ENDPOINT_JSON", '{"keys": {"my_dag": "abc"}}')
    assert render("{{ var.json.ENDPOINT_JSON['keys'][flow.id] }}", ctx()) == "abc"


def test_var_value_get_with_a_default(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_ENDPOINT_SET", "v")
    assert render("{{ var.value.get('ENDPOINT_SET', 'fallback') }}", ctx()) == "v"
    assert render("{{ var.value.get('ENDPOINT_NOT_SET_ANYWHERE', 'fallback') }}", ctx()) == "fallback"


def test_a_missing_secret_is_a_render_error_without_a_value():
    with pytest.raises(TemplateRenderError, match="ENDPOINT_NOT_SET_ANYWHERE"):
        render("{{ secret('ENDPOINT_NOT_SET_ANYWHERE') }}", ctx())


def test_secrets_are_cached_for_key_cache_seconds(monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__KEY_CACHE_SECONDS", "3600")
    monkeypatch.setenv("AIRFLOW_VAR_ENDPOINT_ROTATED", "old")
    assert render("{{ secret('ENDPOINT_ROTATED') }}", ctx()) == "old"
    monkeypatch.setenv("AIRFLOW_VAR_ENDPOINT_ROTATED", "new")
    assert render("{{ secret('ENDPOINT_ROTATED') }}", ctx()) == "old"  # within the cache time
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__KEY_CACHE_SECONDS", "0")
    assert render("{{ secret('ENDPOINT_ROTATED') }}", ctx()) == "new"  # a rotated secret applies


def test_payload_fields_named_like_dict_methods_are_data():
    from airflow_webhook_trigger.templating import render, render_value

    body = {"items": [1, 2], "keys": "k", "get": "g", "values": 3}
    context = {"trigger": {"body": body}}
    assert render_value("{{ trigger.body.items }}", context) == [1, 2]
    assert render("{{ trigger.body.keys }}-{{ trigger.body.get }}-{{ trigger.body.values }}", context) == "k-g-3"
    # a mapping without such a key still has its methods (templates may call them)
    assert render("{{ trigger.body.get('missing', 'dflt') }}", {"trigger": {"body": {"a": 1}}}) == "dflt"

"""Literal secrets refused, what counts as "database unavailable", run ids
for dedupe, and request parsing that never raises and always yields a conf Airflow can store."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_webhook_trigger import storable
from airflow_webhook_trigger.declarations import parse_declaration
from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.request import WebhookRequest, parse_body, trigger_variables
from airflow_webhook_trigger.run_conf import run_conf

# --- a literal secret is refused ------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["literal-secret-0123", "{{ 'literal-secret-0123' }}", "{{ flow.id }}",
                                    "literal-secret-0123 {{", "{{ literal-secret-0123 ", "{% if x %}}}", " "])
def test_literal_secret_is_refused_when_the_declaration_is_read(secret):
    for declaration in (
        {"key": "k", "signature": {"type": "github", "secret": secret}},
        [{"id": "a", "key": "k"}, {"id": "b", "key": "k2", "signature": {"type": "stripe", "secret": secret}}],
        f"key: k\nsignature:\n  type: hmac\n  header: X-Sig\n  secret: {json.dumps(secret)}\n",
    ):
        with pytest.raises(WebhookDeclarationError) as err:
            parse_declaration(declaration)
        assert "signature.secret" in str(err.value)
        assert "literal-secret-0123" not in str(err.value)


@pytest.mark.parametrize("secret", ["{{ secret('GH') }}", "{{ var.value.GH }}", "{{ var.json.GH.key }}",
                                    "{{ conn.gh.password }}", "v1-{{ secret('GH') | trim }}"])
def test_templated_secrets_are_accepted(secret):
    (trigger,) = parse_declaration({"key": "k", "signature": {"type": "github", "secret": secret}})
    assert trigger.signature.secret == secret


# --- which errors are "the database is busy or down" (503) ----------------------------------------


def _sqlalchemy_error(statement: str, setup=None, timeout: float = 0.0):
    """A real error from SQLAlchemy over SQLite, as Airflow's engine would raise it."""
    from sqlalchemy import create_engine, text

    engine = create_engine("sqlite:///" + setup["path"], connect_args={"timeout": timeout}) if setup else None
    with engine.connect() as connection:
        try:
            connection.execute(text(statement))
        except Exception as exc:  # noqa: BLE001
            return exc
    raise AssertionError(f"{statement} did not fail")


@pytest.fixture
def locked_database(tmp_path):
    path = str(tmp_path / "airflow.db")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE dag_run (run_id TEXT PRIMARY KEY)")
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    yield {"path": path}
    holder.execute("ROLLBACK")
    holder.close()


def test_database_is_locked_is_unavailable(locked_database):
    from sqlalchemy.exc import OperationalError

    from airflow_webhook_trigger.airflow import database

    exc = _sqlalchemy_error("INSERT INTO dag_run VALUES ('x')", locked_database, timeout=0.05)
    assert isinstance(exc, OperationalError) and "database is locked" in str(exc)
    assert database.is_database_unavailable(exc)


def test_sqlite_faults_a_retry_will_not_cure_are_not_unavailable(locked_database):
    from airflow_webhook_trigger.airflow import database

    missing_table = _sqlalchemy_error("SELECT * FROM no_such_table", locked_database)
    assert "no such table" in str(missing_table)
    assert not database.is_database_unavailable(missing_table)


def test_request_text_never_makes_an_error_unavailable():
    from airflow_webhook_trigger.airflow import database

    for text in ("database is locked", "could not connect to server", "connection refused"):
        assert not database.is_database_unavailable(ValueError(f"invalid literal for int(): '{text}'"))
        assert not database.is_database_unavailable(RuntimeError(text))


def test_driver_connection_errors_and_pool_timeouts_are_unavailable():
    from sqlalchemy.exc import IntegrityError, OperationalError, TimeoutError as PoolTimeout

    from airflow_webhook_trigger.airflow import database

    class PsycopgOperationalError(Exception):  # what a PostgreSQL driver raises, wrapped by SQLAlchemy
        pass

    assert database.is_database_unavailable(OperationalError("SELECT 1", {}, PsycopgOperationalError("could not connect")))
    assert database.is_database_unavailable(PoolTimeout("QueuePool limit of size 5 overflow 10 reached"))
    assert database.is_database_unavailable(database.DatabaseConflict("FOREIGN KEY constraint failed"))
    integrity = IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed: dag_run.run_id"))
    assert not database.is_database_unavailable(integrity)
    assert database.is_unique_violation(integrity)


# --- run ids: the same delivery, the same run -------------------------------------------------------


def test_run_id_is_deterministic_per_delivery():
    from airflow_webhook_trigger.runs import make_run_id

    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    later = datetime(2026, 1, 2, 3, 9, 5, tzinfo=timezone.utc)
    assert make_run_id("github", at, "72d3162e-cc78") == make_run_id("github", later, "72d3162e-cc78")
    assert make_run_id("github", at, "72d3162e-cc78") == "webhook__github__72d3162e-cc78"
    assert make_run_id("github", at, "a") != make_run_id("github", at, "b")
    assert make_run_id("github", at, "a") != make_run_id("stripe", at, "a")
    assert make_run_id("github", at) != make_run_id("github", at)  # no delivery id: a new run each time


@pytest.mark.parametrize("delivery_id", ["a/b", "x" * 151, "line\n", "\udc80", "é", "../../etc", "a b"])
def test_unsafe_delivery_ids_are_hashed(delivery_id):
    from airflow_webhook_trigger.runs import make_run_id

    at = datetime(2026, 1, 2, tzinfo=timezone.utc)
    run_id = make_run_id("hook", at, delivery_id)
    assert run_id == make_run_id("hook", at, delivery_id)
    assert run_id.startswith("webhook__hook__~h") and len(run_id) == len("webhook__hook__~h") + 40
    assert run_id.isascii() and "/" not in run_id and "\n" not in run_id


def test_no_two_deliveries_share_a_run_id():
    import hashlib
    import re

    from airflow_webhook_trigger.runs import make_run_id

    at = datetime(2026, 1, 2, tzinfo=timezone.utc)
    digest = hashlib.sha256(b"x y").hexdigest()[:40]
    pairs = [("a__b", "c"), ("a", "b__c"), ("a_", "_b"), ("a", "__b"), ("a", "_b"), ("a__", "b"),
             ("hook", "x y"), ("hook", digest), ("hook", "~h" + digest), ("hook", "h" + digest), ("a~ub", "c")]
    run_ids = [make_run_id(trigger, at, delivery) for trigger, delivery in pairs]
    assert len(set(run_ids)) == len(run_ids), run_ids
    assert all(re.fullmatch(r"[A-Za-z0-9_.~:+-]+", run_id) for run_id in run_ids)  # Airflow's run id rule
    assert make_run_id("a__b", at, "c") == make_run_id("a__b", at, "c")  # still one run per delivery


# --- the path, as the server received it ------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("/api/v1/executions/webhook/ns/dag/key", False),
    ("/api/v1/executions/webhook/ns%2Fdag/key", True),
    ("/api/v1/executions/webhook/ns/dag/key%2f..", True),
    ("/api/v1/executions/webhook/ns/dag/key?next=%2F", False),
])
def test_encoded_slash_is_seen_in_every_server(raw, expected):
    from airflow_webhook_trigger.http.blueprint import has_encoded_slash

    assert has_encoded_slash({"RAW_URI": raw}) is expected  # gunicorn (Airflow 2)
    assert has_encoded_slash({"REQUEST_URI": raw}) is expected  # werkzeug
    scope = {"raw_path": raw.split("?")[0].encode()}
    assert has_encoded_slash({"asgi.scope": scope}) is expected  # a2wsgi (Airflow 3)


def test_mask_key_in_logged_paths():
    from airflow_webhook_trigger.urls import mask_keys as mask_key

    assert mask_key("/api/v1/executions/webhook/ns/dag/s3cr3t") == "/api/v1/executions/webhook/ns/dag/***"
    assert mask_key("/api/v1/executions/webhook/ns/dag/s3cr3t/extra") == "/api/v1/executions/webhook/ns/dag/***"
    assert mask_key("/api/v2/dags") == "/api/v2/dags"


# --- bodies: never an exception, always a conf Airflow can store ----------------------------------

CONTENT_TYPES = ["", "application/json", "text/plain", "application/x-www-form-urlencoded", "application/xml",
                 "application/octet-stream", "application/cloudevents+json", "image/png", "text/csv"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)
bodies = st.one_of(
    st.binary(max_size=3000),
    st.text().map(lambda t: t.encode("utf-8")),
    json_values.map(lambda v: json.dumps(v).encode()),  # NaN and Infinity included: not JSON
    json_values.map(lambda v: json.dumps(v)[: len(json.dumps(v)) // 2].encode()),
    st.integers(1, 5000).map(lambda d: b"[" * d + b"]" * d),
    st.integers(1, 3000).map(lambda d: b'{"a":' * d + b"null" + b"}" * d),
    st.sampled_from([b"[1e400]", b'{"a": "\\u0000"}', b'{"\\ud800": 1}', b'["\\udfff\\ud800"]', b"a\x00b",
                     b"{{ 7*7 }}", b'{"t": "{% for x in range(9) %}{% endfor %}"}', b"\xef\xbb\xbf[1]"]),
)
pairs = st.lists(st.tuples(st.text(max_size=10), st.text(max_size=20)), max_size=5)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, content_type=st.sampled_from(CONTENT_TYPES))
def test_parse_body_never_raises_and_stays_storable(body, content_type):
    value = parse_body(body, content_type)
    assert value is None or isinstance(value, (str, dict, list))
    assert storable.fits(value), repr(value)[:200]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, content_type=st.sampled_from(CONTENT_TYPES), headers=pairs, query=pairs,
       method=st.sampled_from(["GET", "POST", "PUT"]))
def test_trigger_variables_and_conf_are_json(body, content_type, headers, query, method):
    headers = [(name.replace("\x00", ""), value) for name, value in headers] + [("Content-Type", content_type)]
    request = WebhookRequest(method=method, headers=tuple(headers), query=tuple(query), body=body)
    variables = trigger_variables(request)
    conf = storable.scrub(run_conf(variables))
    json.dumps(conf, allow_nan=False).encode("utf-8")
    assert storable.fits(conf)
    assert variables["method"] == method


@settings(max_examples=300, deadline=None)
@given(value=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(codec=None)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=20,
))
def test_scrub_always_gives_something_storable(value):
    assert storable.fits(storable.scrub({"v": value}))


def test_scrub_keeps_what_fits_and_replaces_what_does_not():
    fine = {"body": {"a": [1, 2.5, "é ✓"]}, "parameters": {"q": ["1"]}}
    assert storable.scrub(fine) is fine
    deep = current = []
    for _ in range(300):
        current.append([])
        current = current[0]
    scrubbed = storable.scrub({"p": ["a\x00b", "\ud800x"], "n": float("inf"), "deep": deep})
    assert scrubbed["p"] == ["a\ufffdb", "\ufffdx"] and scrubbed["n"] is None
    assert isinstance(json.dumps(scrubbed), str) and storable.fits(scrubbed)


def test_bodies_airflow_cannot_hold_stay_text():
    assert parse_body(b'{"a": "\\u0000"}', "application/json") == '{"a": "\\u0000"}'
    assert parse_body(b'{"a": "\\ud800"}', "application/json") == '{"a": "\\ud800"}'
    assert parse_body(b"[1e400]", "application/json") == "[1e400]"
    nested = b"[" * 200 + b"]" * 200
    assert parse_body(nested, "application/json") == nested.decode()
    assert parse_body(b"[" * 100 + b"]" * 100, "application/json") != (b"[" * 100 + b"]" * 100).decode()
    assert parse_body(b"a\x00b", "text/plain") == "YQBi"  # NUL: binary, base64 like other binary bodies
    assert parse_body(b'{"emoji": "\\ud83d\\ude00"}', "application/json") == {"emoji": "\U0001F600"}


@settings(max_examples=300, deadline=None)
@given(value=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec=None)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=20,
), depth=st.integers(0, 300))
def test_the_quick_text_check_only_says_yes_to_values_that_fit(value, depth):
    """``text_fits`` skips the full check on the 204 path: it must never pass what ``fits`` refuses."""
    text = "[" * depth + json.dumps(value, ensure_ascii=False) + "]" * depth
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: such text never arrives as a UTF-8 body
        return
    if "\x00" in text:  # parse_body sends a NUL body to base64 before parsing
        return
    if storable.text_fits(text):
        assert storable.fits(json.loads(text))
    assert not storable.text_fits('{"a": "\\u0000"}') and not storable.text_fits("[" * 129 + "]" * 129)

"""The blueprint in a plain Flask app (``create_blueprint()`` with its default url_prefix) through
Flask's test client: routing 404s, 405 with Allow, the 413 body limit (also for a chunked body
without Content-Length), and requests reaching the decision (404/409/204) from an index filled
with ``WebhookIndex.from_triggers``. The 200 path creates a run in Airflow's database: that is
the integration tests' job."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask

from airflow_webhook_trigger.http.blueprint import URL_PREFIX, create_blueprint, read_body, BodyTooLarge
from airflow_webhook_trigger.index import WebhookIndex

NOT_FOUND = b'{"message": "Not Found: webhook not found"}'
LIMIT = 1000

DECLARATIONS = {
    "cond_dag": {
        "key": "cond-key",
        "namespace": "io.kestra.tests",
        "conditions": [{"type": "ExpressionCondition", "expression": "{{ trigger.body.hello == 'world' }}"}],
    },
    # holds only when the body was read: an unread body is undefined, an error, counted as false
    "read_dag": {
        "key": "read-key",
        "namespace": "io.kestra.tests",
        "conditions": [{"type": "NotCondition", "conditions": [
            {"type": "ExpressionCondition", "expression": "{{ trigger.body.size == 'chunked' }}"}]}],
    },
    "header_dag": {
        "key": "header-key",
        "namespace": "io.kestra.tests",
        "conditions": [{"type": "ExpressionCondition",
                        "expression": "{{ trigger.headers['x-github-event'][0] == 'push' "
                                      "and trigger.parameters.a == ['1', '2'] }}"}],
    },
    "disabled_dag": {"key": "k", "namespace": "io.kestra.tests", "disabled": True},
    "paused_dag": {"key": "k", "namespace": "io.kestra.tests"},
    "list_dag": [
        {"id": "first", "key": "same", "namespace": "io.kestra.tests",
         "conditions": [{"type": "ExpressionCondition", "expression": "{{ false }}"}]},
        {"id": "second", "key": "same", "namespace": "io.kestra.tests"},
        {"id": "third", "key": "third-key", "namespace": "io.kestra.tests", "disabled": True},
    ],
    "flow_key_dag": {"key": "{{ flow.id }}-{{ flow.namespace }}", "namespace": "ns", "disabled": True},
    "default_ns_dag": {"key": "k", "disabled": True},
    "broken_key_dag": {"key": "{{ secret('ENDPOINT_NOT_SET_ANYWHERE') }}", "namespace": "ns", "disabled": True},
    "invalid_dag": {"key": "k", "namespace": "io.kestra.tests", "conditions": [{"type": "MultipleCondition"}]},
}


@pytest.fixture(scope="module")
def index() -> WebhookIndex:
    return WebhookIndex.from_triggers(DECLARATIONS, paused={"paused_dag"}, filelocs={"invalid_dag": "/dags/x.py"})


@pytest.fixture
def client(index, monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__MAX_BODY_SIZE", str(LIMIT))
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__DEFAULT_NAMESPACE", "default")
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__KEY_CACHE_SECONDS", "0")
    app = Flask("plain_host_app")
    app.register_blueprint(create_blueprint(index=index))

    @app.route("/hello")
    def hello():  # the host app's own routes keep working
        return "hi"

    return app.test_client()


def url(namespace: str, dag_id: str, key: str) -> str:
    return f"{URL_PREFIX}/{namespace}/{dag_id}/{key}"


# --- the index for tests -----------------------------------------------------------------------


def test_from_triggers_builds_routes_paused_flags_and_invalid_declarations(index):
    assert index.lookup("io.kestra.tests", "cond_dag").triggers[0].key == "cond-key"
    assert index.lookup("default", "default_ns_dag") is not None  # no namespace: the default
    assert [t.id for t in index.lookup("io.kestra.tests", "list_dag").triggers] == ["first", "second", "third"]
    assert index.lookup("io.kestra.tests", "invalid_dag") is None
    assert index.is_paused("paused_dag") and not index.is_paused("cond_dag")
    (invalid,) = index.invalid()
    assert (invalid.dag_id, invalid.fileloc) == ("invalid_dag", "/dags/x.py")
    assert "MultipleCondition are not supported" in invalid.reason


# --- routing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        url("io.kestra.tests", "cond_dag", "cond-key") + "/",
        url("io.kestra.tests", "cond_dag", "cond-key") + "/extra",
        url("io.kestra.tests", "cond_dag", "cond-key") + "/extra/more",
        f"{URL_PREFIX}/io.kestra.tests/cond_dag",
        f"{URL_PREFIX}/io.kestra.tests",
        f"{URL_PREFIX}/",
        URL_PREFIX,
        f"{URL_PREFIX}//cond_dag/cond-key",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_other_paths_under_the_prefix_are_json_404(client, path, method):
    response = client.open(path, method=method, json={"hello": "world"})
    assert response.status_code == 404
    assert response.data == NOT_FOUND
    assert response.content_type == "application/json"


@pytest.mark.parametrize(
    "path",
    [
        url("io.kestra.tests", "cond_dag", "wrong-key"),
        url("io.kestra.tests", "cond_dag", "COND-KEY"),  # exact, case sensitive
        url("io.kestra.tests", "cond_dag", "cond-key%20"),
        url("io.kestra.tests", "no_such_dag", "cond-key"),
        url("other.namespace", "cond_dag", "cond-key"),
        url("io.kestra.tests", "invalid_dag", "k"),  # an invalid declaration serves nothing
        url("ns", "broken_key_dag", "anything"),  # a key that fails to render matches nothing
        url("ns", "broken_key_dag", ""),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
def test_unknown_namespace_dag_or_key_is_the_same_404(client, path, method):
    response = client.open(path, method=method, data=b'{"hello": "world"}')
    assert (response.status_code, response.data) == (404, NOT_FOUND)


def test_the_host_apps_own_routes_still_work(client):
    assert client.get("/hello").data == b"hi"


def test_query_strings_are_fine(client):
    response = client.post(url("io.kestra.tests", "cond_dag", "cond-key") + "?a=1&a=2", json={"hello": "nope"})
    assert response.status_code == 204


# --- methods -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "OPTIONS", "HEAD"])
def test_other_methods_are_405_with_allow(client, method):
    response = client.open(url("io.kestra.tests", "cond_dag", "cond-key"), method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST, PUT"
    if method != "HEAD":
        assert json.loads(response.data)["message"].startswith("Method Not Allowed")


# --- body limit ----------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413(client):
    response = client.post(url("io.kestra.tests", "cond_dag", "cond-key"), data=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert json.loads(response.data) == {"message": f"Payload Too Large: the body must be at most {LIMIT} bytes"}


def test_a_body_at_the_limit_is_read(client):
    body = json.dumps({"hello": "nope", "pad": "x" * (LIMIT - 30)}).encode()[:LIMIT]
    body = body if len(body) == LIMIT else body + b" " * (LIMIT - len(body))
    response = client.post(url("io.kestra.tests", "cond_dag", "cond-key"), data=body)
    assert response.status_code == 204


def chunked(client, path: str, body: bytes):
    """A request whose body has no Content-Length (as a chunked request reaches WSGI)."""
    response = client.post(path, environ_overrides={"wsgi.input": io.BytesIO(body)})
    assert "CONTENT_LENGTH" not in response.request.environ
    return response


def test_a_chunked_body_over_the_limit_is_413(client):
    response = chunked(client, url("io.kestra.tests", "cond_dag", "cond-key"), b"y" * (LIMIT * 3))
    assert response.status_code == 413


def test_a_chunked_body_under_the_limit_is_read(client):
    # NotCondition(body.size == 'chunked'): 204 only when the body was read and parsed.
    response = chunked(client, url("io.kestra.tests", "read_dag", "read-key"), b'{"size": "chunked"}')
    assert response.status_code == 204


def test_read_body_directly():
    assert read_body({"CONTENT_LENGTH": "3", "wsgi.input": io.BytesIO(b"abcdef")}, 10) == b"abc"
    assert read_body({"CONTENT_LENGTH": "0", "wsgi.input": io.BytesIO(b"abc")}, 10) == b""
    assert read_body({"wsgi.input": io.BytesIO(b"abc")}, 10) == b"abc"
    assert read_body({"CONTENT_LENGTH": "", "wsgi.input": io.BytesIO(b"")}, 10) == b""
    big = b"z" * (200 * 1024)
    assert read_body({"wsgi.input": io.BytesIO(big)}, len(big)) == big  # several chunks
    with pytest.raises(BodyTooLarge):
        read_body({"CONTENT_LENGTH": "11", "wsgi.input": io.BytesIO(b"")}, 10)  # refused before reading
    with pytest.raises(BodyTooLarge):
        read_body({"wsgi.input": io.BytesIO(big + b"!")}, len(big))


# --- reaching the decision ------------------------------------------------------------------------


def test_condition_not_met_is_204_with_an_empty_body(client):
    response = client.post(url("io.kestra.tests", "cond_dag", "cond-key"), json={"hello": "webhook"})
    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize("body", [b"bla", b"", b"[1, 2]", b'{"hello": "world"'])
def test_a_condition_error_is_204_not_500(client, body):
    response = client.put(url("io.kestra.tests", "cond_dag", "cond-key"), data=body)
    assert response.status_code == 204


def test_headers_and_parameters_reach_the_conditions(client):
    path = url("io.kestra.tests", "header_dag", "header-key")
    assert client.get(path + "?a=1&a=3", headers={"X-GitHub-Event": "push"}).status_code == 204
    assert client.get(path + "?a=1&a=2", headers={"X-GitHub-Event": "issues"}).status_code == 204
    assert client.get(path + "?a=1&a=2").status_code == 204  # missing header: error, false


def test_disabled_trigger_is_409(client):
    response = client.post(url("io.kestra.tests", "disabled_dag", "k"))
    assert response.status_code == 409
    message = json.loads(response.data)["message"]
    assert "disabled" in message and "disabled_dag" in message


def test_paused_dag_is_409(client):
    response = client.get(url("io.kestra.tests", "paused_dag", "k"))
    assert response.status_code == 409
    message = json.loads(response.data)["message"]
    assert "paused" in message and "unpause" in message


def test_the_first_trigger_whose_key_matches_wins(client):
    # `first` matches and its condition is false: 204, and `second` (same key) is not tried.
    assert client.post(url("io.kestra.tests", "list_dag", "same")).status_code == 204
    response = client.post(url("io.kestra.tests", "list_dag", "third-key"))  # reachable by its own key
    assert response.status_code == 409 and "'third'" in json.loads(response.data)["message"]


def test_dynamic_key_from_flow_id_and_namespace(client):
    assert client.get(url("ns", "flow_key_dag", "flow_key_dag-ns")).status_code == 409
    assert client.get(url("ns", "flow_key_dag", "{{ flow.id }}-{{ flow.namespace }}")).status_code == 404


def test_the_default_namespace(client):
    assert client.get(url("default", "default_ns_dag", "k")).status_code == 409


def test_a_bug_answers_json_500_never_html(client, monkeypatch):
    from airflow_webhook_trigger.http import blueprint

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(blueprint, "handle", explode)
    response = client.post(url("io.kestra.tests", "cond_dag", "cond-key"))
    assert response.status_code == 500
    assert json.loads(response.data)["message"].startswith("Internal Server Error")


# --- the listing of the same index -----------------------------------------------------------------


def test_listing_masks_keys_and_reports_invalid_declarations(index):
    from airflow_webhook_trigger.listing import list_webhooks

    listed = list_webhooks(index, base_url="https://airflow.example.com/")
    hooks = {(w["dag_id"], w["trigger_id"]): w for w in listed["webhooks"]}
    assert hooks[("cond_dag", "webhook")] == {
        "namespace": "io.kestra.tests",
        "dag_id": "cond_dag",
        "trigger_id": "webhook",
        "url": f"https://airflow.example.com{URL_PREFIX}/io.kestra.tests/cond_dag/***",
        "conditions": ["ExpressionCondition {{ trigger.body.hello == 'world' }}"],
        "disabled": False,
        "paused": False,
        "fileloc": None,
        "ignored": [],
        "asset": None,
        "literal_key": True,  # "cond-key" reads no secret: flagged as visible to DAG readers
    }
    assert hooks[("paused_dag", "webhook")]["paused"] is True
    assert hooks[("list_dag", "third")]["disabled"] is True
    assert [k[1] for k in hooks if k[0] == "list_dag"] == ["first", "second", "third"]
    reason = "webhook.conditions[0].type: conditions of type MultipleCondition are not supported"
    assert listed["invalid"] == [{"dag_id": "invalid_dag", "fileloc": "/dags/x.py", "reason": reason}]
    text = json.dumps(listed)
    assert not [key for key in ("cond-key", "read-key", "header-key", "third-key", "same") if key in text]


def test_repeated_headers_behind_the_asgi_bridge_stay_separate_values():
    from flask import request

    from airflow_webhook_trigger.http.blueprint import _header_pairs

    app = Flask("plain_host_app")
    scope = {"type": "http", "headers": [(b"x-multi", b"a"), (b"x-multi", b"b"), (b"x-one", b"c, d")]}
    with app.test_request_context("/", environ_overrides={"asgi.scope": scope, "HTTP_X_MULTI": "a,b"}):
        assert _header_pairs(request) == (("x-multi", "a"), ("x-multi", "b"), ("x-one", "c, d"))
    with app.test_request_context("/", headers={"X-GitHub-Event": "push"}):  # plain WSGI: Werkzeug's headers
        assert ("X-Github-Event", "push") in _header_pairs(request)

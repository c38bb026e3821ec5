"""Every case of Kestra's own webhook tests, every
answer code (404, 405, 409, 204, 200, 422), the run's conf, run id and triggering user read back
through Airflow's REST API, lists of triggers, YAML declarations, request data staying data,
and a namespace and key beyond ASCII. An invalid declaration: ``test_listing.py``.

The DAGs are ``tests/dags/endpoint_*.py``, in Kestra's test namespace ``io.kestra.tests``.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.integration

NS = "io.kestra.tests"
PREFIX = "/api/v1/executions/webhook"
NOT_FOUND = b'{"message": "Not Found: webhook not found"}'


def answer_run(stack, response) -> dict:
    """The 200 answer's run, read back through Airflow's REST API."""
    assert response.status_code == 200, response.text
    answer = response.json()
    run = stack.get_run(answer["dag_id"], answer["dag_run_id"])
    assert run is not None, answer
    return run


def run_count(stack, dag_id: str) -> int:
    return len(stack.list_runs(dag_id))


def set_variable(stack, key: str, value: str) -> None:
    status, body = stack.api("POST", "/api/v2/variables", {"key": key, "value": value})
    if status == 409:
        status, body = stack.api("PATCH", f"/api/v2/variables/{key}", {"key": key, "value": value})
    assert status in (200, 201), body


# --- Kestra's own test cases ------------------------------------------------------------------------


def test_post_with_query_parameters_and_a_json_object(stack, http):
    response = http.post(
        f"{PREFIX}/{NS}/endpoint_webhook/a-secret-key?name=john&age=12&age=13",
        json={"a": 1, "b": True},
        headers={"X-Custom-Header": "Value-1"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    run_id = answer["id"]
    assert answer["dag_run_id"] == run_id
    assert (answer["namespace"], answer["flowId"], answer["dag_id"]) == (NS, "endpoint_webhook", "endpoint_webhook")
    assert answer["state"] == {"current": "QUEUED"}
    assert answer["url"] == stack.run_url("endpoint_webhook", run_id)
    assert response.headers["content-type"].startswith("application/json")

    run = answer_run(stack, response)
    conf = run["conf"]
    assert conf["body"] == {"a": 1, "b": True}
    assert conf["body"]["a"] == 1 and conf["body"]["b"] is True
    assert conf["parameters"] == {"name": ["john"], "age": ["12", "13"]}
    assert conf["headers"]["x-custom-header"] == ["Value-1"]
    assert conf["headers"]["content-type"] == ["application/json"]
    assert all(name == name.lower() for name in conf["headers"]), conf["headers"]
    assert run_id.startswith("webhook__")
    assert run["run_type"] == "manual"
    user = run["triggering_user_name"]  # names the webhook: its namespace and trigger id
    assert user.startswith("webhook") and NS in user and user.endswith("/webhook"), user


@pytest.mark.airflow3_only  # WSGI (gunicorn, Airflow 2) joins a repeated header into one "a,b" value
def test_a_repeated_header_is_a_list_of_its_values(stack, http):
    headers = [("X-Multi", "a"), ("x-multi", "b"), ("X-One", "c, d")]
    response = http.post(f"{PREFIX}/{NS}/endpoint_webhook/a-secret-key", headers=headers, content=b"x")
    conf = answer_run(stack, response)["conf"]
    assert conf["headers"]["x-multi"] == ["a", "b"]
    assert conf["headers"]["x-one"] == ["c, d"]


def test_put_with_a_json_array(stack, http):
    response = http.put(f"{PREFIX}/{NS}/endpoint_webhook/a-secret-key", json=[{"a": 1, "b": True}])
    assert answer_run(stack, response)["conf"]["body"] == [{"a": 1, "b": True}]


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_post_bla(stack, http, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post(f"{PREFIX}/{NS}/endpoint_webhook/a-secret-key", content=b"bla", headers=headers)
    assert answer_run(stack, response)["conf"]["body"] == "bla"


def test_get_has_a_null_body(stack, http):
    response = http.get(f"{PREFIX}/{NS}/endpoint_webhook/a-secret-key?x=1")
    conf = answer_run(stack, response)["conf"]
    assert conf["body"] is None and conf["parameters"] == {"x": ["1"]}


@pytest.mark.parametrize("text", ['{"a": 1,', '{"a": 1}}', "  [1, 2  \n", '{"a": NaN}', "42", "true"])
def test_invalid_json_stays_its_exact_text(stack, http, text):
    response = http.post(
        f"{PREFIX}/{NS}/endpoint_webhook/a-secret-key", content=text.encode(), headers={"Content-Type": "application/json"}
    )
    assert answer_run(stack, response)["conf"]["body"] == text


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
def test_unknown_flow_any_method_is_404(http, method):
    response = http.request(method, f"{PREFIX}/{NS}/endpoint_no_such_flow/a-secret-key", json={"a": 1})
    assert response.status_code == 404
    assert response.content == NOT_FOUND


def test_key_from_flow_id(stack, http):
    response = http.get(f"{PREFIX}/{NS}/endpoint_dynamic_key/endpoint_dynamic_key")
    answer_run(stack, response)
    assert http.get(f"{PREFIX}/{NS}/endpoint_dynamic_key/endpoint_webhook").status_code == 404
    assert http.get(f"{PREFIX}/{NS}/endpoint_dynamic_key/{quote('{{ flow.id }}', safe='')}").status_code == 404


def test_key_from_a_secret(stack, http):
    url = f"{PREFIX}/{NS}/endpoint_secret_key"
    set_variable(stack, "WEBHOOK_KEY", "t2-secret-value-1")
    answer_run(stack, http.post(f"{url}/t2-secret-value-1", json={"n": 1}))
    assert http.post(f"{url}/t2-secret-value-2").status_code == 404
    # a rotated secret applies at once here ([webhook_trigger] key_cache_seconds = 0 in the stack)
    set_variable(stack, "WEBHOOK_KEY", "t2-secret-value-2")
    answer_run(stack, http.post(f"{url}/t2-secret-value-2", json={"n": 2}))
    response = http.post(f"{url}/t2-secret-value-1")
    assert (response.status_code, response.content) == (404, NOT_FOUND)


def test_condition_met_is_200_and_not_met_is_204_with_an_empty_body(stack, http):
    url = f"{PREFIX}/{NS}/endpoint_condition/condition-key"
    answer_run(stack, http.post(url, json={"hello": "world"}))
    before = run_count(stack, "endpoint_condition")
    for body in ({"hello": "webhook"}, {"other": 1}, "hello world", None):
        response = http.post(url, json=body) if body is not None else http.post(url)
        assert response.status_code == 204, response.text
        assert response.content == b""
    assert run_count(stack, "endpoint_condition") == before  # 204: no run


@pytest.mark.parametrize(
    "path",
    [
        f"{NS}/endpoint_webhook/a-secret-key/extra",
        f"{NS}/endpoint_webhook/a-secret-key/",
        f"{NS}/endpoint_webhook/a-secret-key/extra/more",
        f"{NS}/endpoint_webhook",
        f"{NS}/endpoint_webhook/wrong-key",
        f"{NS}/endpoint_webhook/A-SECRET-KEY",
        f"{NS}/endpoint_webhook/a-secret-key%2Fx",
        "wrong.namespace/endpoint_webhook/a-secret-key",
        f"{NS}/endpoint_no_such_dag/a-secret-key",
        f"{NS}/declaration_invalid/t2-invalid-key-value",
        f"{NS}/webhook_mapping/4wjtkzwVGBM9yKnjm3yv8r",  # an example DAG, but in namespace demo
        "",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_routing_and_wrong_parts_are_the_same_404(http, path, method):
    response = http.request(method, f"{PREFIX}/{path}", content=b'{"a": 1}')
    assert response.status_code == 404
    assert response.content == NOT_FOUND


# --- the other answer codes ----------------------------------------------------------------------


def test_disabled_trigger_is_409(stack, http):
    before = run_count(stack, "endpoint_disabled")
    response = http.post(f"{PREFIX}/{NS}/endpoint_disabled/disabled-key", json={"a": 1})
    assert response.status_code == 409
    message = response.json()["message"]
    assert "disabled" in message and "endpoint_disabled" in message
    assert http.post(f"{PREFIX}/{NS}/endpoint_disabled/wrong").status_code == 404  # the key is checked first
    assert run_count(stack, "endpoint_disabled") == before


def poll(send, want: int, timeout: float = 15.0):
    """Send until the answer's status is ``want`` (the index refreshes in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        response = send()
        if response.status_code == want or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_paused_dag_is_409_and_served_again_once_unpaused(stack, http):
    url = f"{PREFIX}/{NS}/endpoint_paused/paused-key"
    before = run_count(stack, "endpoint_paused")
    stack.set_paused("endpoint_paused", True)
    try:
        started = time.monotonic()
        response = poll(lambda: http.get(url), 409)
        print(f"pause seen after {time.monotonic() - started:.2f} s")
        assert response.status_code == 409, response.text
        message = response.json()["message"]
        assert "paused" in message and "endpoint_paused" in message
        assert run_count(stack, "endpoint_paused") == before
    finally:
        stack.set_paused("endpoint_paused", False)
    response = poll(lambda: http.get(url), 200)
    answer_run(stack, response)


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_with_allow(http, method):
    response = http.request(method, f"{PREFIX}/{NS}/endpoint_webhook/a-secret-key")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST, PUT"
    assert response.json()["message"].startswith("Method Not Allowed")


@pytest.mark.parametrize("body", [b"not an object", b"[1, 2]"])
def test_params_refusing_the_conf_is_422(stack, http, body):
    url = f"{PREFIX}/{NS}/endpoint_params_refuse/params-key"
    before = run_count(stack, "endpoint_params_refuse")
    response = http.post(url, content=body)
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert "params" in message and "body" in message, message
    assert run_count(stack, "endpoint_params_refuse") == before
    answer_run(stack, http.post(url, json={"fits": "the schema"}))


# --- several triggers, YAML, headers, request data ---------------------------------------------------


def test_the_first_trigger_whose_key_matches_wins(stack, http):
    url = f"{PREFIX}/{NS}/declaration_list"
    response = http.post(f"{url}/shared-key", json={"go": "yes"})
    assert response.json()["trigger"]["id"] == "alpha"
    assert answer_run(stack, response)["triggering_user_name"].endswith("/alpha")
    # alpha matches the key and its condition is not met: 204, beta (same key) is not tried
    assert http.post(f"{url}/shared-key", json={"go": "no"}).status_code == 204
    response = http.post(f"{url}/gamma-key")
    assert response.json()["trigger"]["id"] == "gamma"
    assert answer_run(stack, response)["triggering_user_name"].endswith("/gamma")


def test_yaml_declaration_and_a_header_condition_in_any_case(stack, http):
    url = f"{PREFIX}/{NS}/declaration_yaml"
    response = http.post(f"{url}/yaml-key", json={"ref": "main"}, headers={"X-GitHub-Event": "push"})
    assert response.json()["trigger"] == {"id": "github", "type": "io.kestra.plugin.core.trigger.Webhook"}
    assert answer_run(stack, response)["conf"]["headers"]["x-github-event"] == ["push"]
    assert http.post(f"{url}/yaml-key", headers={"x-github-event": "issues"}).status_code == 204
    assert http.post(f"{url}/yaml-key").status_code == 204  # no such header: an error, false
    response = http.get(f"{url}/yaml-legacy-key?ok=yes")  # the old Kestra type names
    assert response.json()["trigger"]["id"] == "legacy"
    answer_run(stack, response)
    assert http.get(f"{url}/yaml-legacy-key?ok=no").status_code == 204


def test_template_text_in_the_body_stays_data(stack, http):
    url = f"{PREFIX}/{NS}/endpoint_injection/injection-key"
    body = {"hello": "{{ 7*7 }}", "code": "{% for i in range(3) %}x{% endfor %}", "x": "{{ ''.__class__ }}"}
    # the condition compares with the literal text: it holds only because nothing was rendered
    response = http.post(url, json=body, headers={"X-Evil": "{{ 7*7 }}"}, params={"q": "{{ 7*7 }}"})
    conf = answer_run(stack, response)["conf"]
    assert conf["body"] == body
    assert conf["headers"]["x-evil"] == ["{{ 7*7 }}"] and conf["parameters"] == {"q": ["{{ 7*7 }}"]}
    assert http.post(url, json={"hello": "49"}).status_code == 204


def test_unicode_namespace_and_key(stack, http):
    url = f"{PREFIX}/{quote('équipe.données', safe='')}/endpoint_unicode/{quote('clé-🔑', safe='')}"
    response = http.post(url, json={"é": "ü"})
    assert response.json()["namespace"] == "équipe.données"
    conf = answer_run(stack, response)["conf"]
    assert conf["body"] == {"é": "ü"}
    assert http.post(url[:-3]).status_code == 404  # a part of the key is not the key


def test_no_namespace_means_the_default_namespace(stack, http):
    response = http.post(f"{PREFIX}/default/endpoint_default_namespace/default-namespace-key")
    assert response.json()["namespace"] == "default"
    answer_run(stack, response)
    assert http.post(f"{PREFIX}/{NS}/endpoint_default_namespace/default-namespace-key").content == NOT_FOUND


@pytest.mark.airflow3_only  # Airflow 2 has neither feature and says nothing (README's table)
def test_what_this_airflow_lacks_is_switched_off_with_a_log_line(stack, http):
    """On 3.0 the Webhooks page, on 3.0 and 3.1 the ``airflow webhook-trigger`` group: each is
    off with a line in the api-server's log saying why; on 3.2+ neither line is there."""
    from airflow_webhook_trigger.airflow.versions import HAS_EXTERNAL_VIEWS, HAS_PROVIDER_CLI

    assert http.post(f"{PREFIX}/{NS}/endpoint_webhook/a-secret-key").status_code == 200  # served all the same
    log = stack.log("api-server")
    assert ("the Webhooks page is switched off" in log) is not HAS_EXTERNAL_VIEWS, log[-2000:]
    assert ("`airflow webhook-trigger` is not there" in log) is not HAS_PROVIDER_CLI, log[-2000:]

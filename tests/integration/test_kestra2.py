"""Kestra 2.x triggers pasted and behaving as in Kestra, over HTTP against a real api-server:
tenant URL, ``when``, ``labels``, ``fetchType``, typed inputs, charsets and multipart, ``wait``
with outputs, response headers, ``flowRevision`` (tests/dags/kestra2_*.py)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import WEBHOOK_PREFIX
from tools.stack import AIRFLOW_MAJOR

pytestmark = pytest.mark.integration

NS = "company.team"
WAIT = 180


def url(dag_id: str, key: str, namespace: str = NS, tenant: str | None = None) -> str:
    if tenant is None:
        return f"{WEBHOOK_PREFIX}/{namespace}/{dag_id}/{key}"
    return f"/api/v1/{tenant}/executions/webhook/{namespace}/{dag_id}/{key}"


def run_ids(stack, dag_id: str) -> set[str]:
    return {run["dag_run_id"] for run in stack.list_runs(dag_id)}


def stored_files(stack) -> list[Path]:
    folder = Path(stack.home) / "webhook_bodies"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


OPENED = {"action": "opened", "count": "3", "items": [1, 2], "meta": {"a": 1}}


# --- 1. tenant URL ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
def test_the_main_tenant_url_serves_the_webhook(stack, http, method):
    answer = http.request(method, url("kestra2_pasted", "k2-pasted", tenant="main") + "?ratio=1&flag=true",
                          json=OPENED if method != "GET" else None)
    if method == "GET":  # no body: `when` renders false
        assert (answer.status_code, answer.content) == (204, b"")
    else:
        assert answer.status_code == 200, answer.text
        assert answer.json()["flowId"] == "kestra2_pasted"


def test_another_tenant_gets_the_usual_404_bytes(http):
    plain = http.post(url("kestra2_pasted", "wrong-key"), json=OPENED)
    for tenant in ("acme", "MAIN", "main2"):
        answer = http.post(url("kestra2_pasted", "k2-pasted", tenant=tenant), json=OPENED)
        assert (answer.status_code, answer.content) == (404, plain.content)


def test_tenant_url_routing_is_kestras(http):
    for path in (url("kestra2_pasted", "k2-pasted", tenant="main") + "/extra",
                 url("kestra2_pasted", "k2-pasted", tenant="main") + "/",
                 "/api/v1/main/executions/webhook/only-two/segments"):
        assert http.post(path, json=OPENED).status_code == 404, path
    answer = http.request("DELETE", url("kestra2_pasted", "k2-pasted", tenant="main"))
    assert answer.status_code == 405


@pytest.mark.airflow3_only
def test_the_tenant_url_key_is_masked_in_the_access_log(stack, http):
    assert http.post(url("kestra2_pasted", "k2-pasted", tenant="main") + "?ratio=1&flag=false", json=OPENED).status_code == 200
    log = stack.log("api-server").replace("%2A%2A%2A", "***")  # uvicorn (3.0/3.1) quotes it
    assert "/api/v1/main/executions/webhook/company.team/kestra2_pasted/***" in log
    assert "k2-pasted" not in log


# --- 2. when ---------------------------------------------------------------------------------


@pytest.mark.parametrize("go, status", [("yes", 200), ("1", 200), ("false", 204), ("FALSE", 204), ("0", 204),
                                        ("-0", 204), ("", 204), ("  ", 204)])
def test_when_is_false_when_blank_false_or_zero(http, go, status):
    answer = http.post(url("kestra2_features", "k2-when", namespace="default"), params={"go": go})
    assert answer.status_code == status, answer.text
    if status == 204:
        assert answer.content == b""


def test_when_that_fails_to_render_is_false(stack, http):
    before = run_ids(stack, "kestra2_features")
    answer = http.post(url("kestra2_features", "k2-when-error", namespace="default"), json={"x": 1})
    assert (answer.status_code, answer.content) == (204, b"")
    assert run_ids(stack, "kestra2_features") == before


def test_the_pasted_trigger_when_and_conditions_hold_or_204(http):
    answer = http.post(url("kestra2_pasted", "k2-pasted"), json={**OPENED, "action": "closed"})
    assert (answer.status_code, answer.content) == (204, b"")


# --- 3. labels and 9. flowRevision --------------------------------------------------------------


def test_labels_are_in_the_answer_and_the_note(stack, http):
    answer = http.post(url("kestra2_pasted", "k2-pasted") + "?ratio=2.5&flag=TRUE", json=OPENED)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["labels"] == [{"key": "source", "value": "github"}, {"key": "action", "value": "opened"}]
    run = stack.get_run("kestra2_pasted", body["id"])
    assert "`source`: `github`" in run["note"] and "`action`: `opened`" in run["note"]
    if AIRFLOW_MAJOR >= 3:
        assert isinstance(body["flowRevision"], int) and body["flowRevision"] >= 1
    else:
        assert body["flowRevision"] is None


def test_a_label_that_fails_to_render_is_422_naming_it(stack, http):
    before = run_ids(stack, "kestra2_features")
    answer = http.post(url("kestra2_features", "k2-labels", namespace="default"), json={})
    assert answer.status_code == 422, answer.text
    assert answer.json()["label"] == "bad" and "'bad'" in answer.json()["message"]
    assert run_ids(stack, "kestra2_features") == before


# --- 5. typed inputs ---------------------------------------------------------------------------


def test_inputs_are_converted_to_the_params_types(stack, http):
    answer = http.post(url("kestra2_pasted", "k2-pasted") + "?ratio=2.5&flag=TRUE", json=OPENED)
    assert answer.status_code == 200, answer.text
    conf = stack.get_run("kestra2_pasted", answer.json()["id"])["conf"]
    assert conf["count"] == 3 and conf["ratio"] == 2.5 and conf["flag"] is True
    assert conf["items"] == [1, 2]
    assert conf["payload"] == '{"a": 1}'  # a mapping rendered for a string param: its JSON text


def test_an_input_that_cannot_be_converted_is_422_naming_it(stack, http):
    before = run_ids(stack, "kestra2_features")
    answer = http.post(url("kestra2_features", "k2-typed", namespace="default"), json={"n": "seven"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["param"] == "number" and "cannot be converted" in answer.json()["message"]
    assert run_ids(stack, "kestra2_features") == before
    ok = http.post(url("kestra2_features", "k2-typed", namespace="default"), json={"n": " 7 "})
    assert ok.status_code == 200, ok.text
    assert stack.get_run("kestra2_features", ok.json()["id"])["conf"]["number"] == 7


# --- 4. fetchType ------------------------------------------------------------------------------


def test_fetch_type_none_drops_the_body(stack, http):
    answer = http.post(url("kestra2_pasted", "k2-none") + "?a=1", json={"secret": "data"}, headers={"X-A": "b"})
    assert answer.status_code == 200, answer.text
    conf = stack.get_run("kestra2_pasted", answer.json()["id"])["conf"]
    assert conf["body"] is None and conf["parameters"] == {"a": ["1"]} and conf["headers"]["x-a"] == ["b"]


def test_fetch_type_store_writes_the_body_and_gives_its_uri(stack, http):
    raw = b"\x00\x01binary \xff" * 10
    answer = http.post(url("kestra2_pasted", "k2-store"), content=raw, headers={"X-Kind": "blob"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["labels"] == [{"key": "kind", "value": "blob"}]
    conf = stack.get_run("kestra2_pasted", answer.json()["id"])["conf"]
    assert conf["body"] is None and conf["uri"].startswith("file://")
    assert Path(urlparse(conf["uri"]).path).read_bytes() == raw


def test_fetch_type_store_without_a_body_has_a_null_uri(stack, http):
    answer = http.post(url("kestra2_pasted", "k2-store"), headers={"X-Kind": "empty"})
    assert answer.status_code == 200, answer.text
    conf = stack.get_run("kestra2_pasted", answer.json()["id"])["conf"]
    assert conf["body"] is None and conf["uri"] is None


def test_a_stored_body_may_exceed_max_body_size(stack, http):
    big = b"x" * (2 * 1024 * 1024)  # over max_body_size (1 MiB), under max_stored_body_size (25 MiB)
    answer = http.post(url("kestra2_pasted", "k2-store"), content=big, headers={"X-Kind": "big"})
    assert answer.status_code == 200, answer.text
    conf = stack.get_run("kestra2_pasted", answer.json()["id"])["conf"]
    assert Path(urlparse(conf["uri"]).path).stat().st_size == len(big)
    # the same DAG's FETCH trigger, and a DAG that stores nothing, keep max_body_size
    assert http.post(url("kestra2_pasted", "k2-pasted"), content=big).status_code == 413
    assert http.post(url("kestra2_features", "k2-body", namespace="default"), content=big).status_code == 413


def test_a_refused_store_delivery_leaves_no_file(stack, http):
    before = stored_files(stack)
    # the label template fails (no X-Kind header): 422 after the body was stored, so it is deleted
    answer = http.post(url("kestra2_pasted", "k2-store"), content=b"payload")
    assert answer.status_code == 422, answer.text
    assert stored_files(stack) == before


# --- 6. bodies: charsets, text types, multipart -------------------------------------------------


def _conf(stack, http, **kwargs) -> dict:
    answer = http.post(url("kestra2_features", "k2-body", namespace="default"), **kwargs)
    assert answer.status_code == 200, answer.text
    return stack.get_run("kestra2_features", answer.json()["id"])["conf"]


@pytest.mark.parametrize("charset, text", [("iso-8859-1", "café à Zürich"), ("windows-1252", "€ “quoted”"),
                                           ("utf-8", "naïve ✓")])
def test_text_is_decoded_with_its_charset(stack, http, charset, text):
    conf = _conf(stack, http, content=text.encode(charset), headers={"Content-Type": f"text/plain; charset={charset}"})
    assert conf["body"] == text


def test_an_unknown_charset_is_binary(stack, http):
    conf = _conf(stack, http, content=b"abc", headers={"Content-Type": "text/plain; charset=x-no-such"})
    assert conf["body"] == base64.b64encode(b"abc").decode()


@pytest.mark.parametrize("content_type", ["application/yaml", "application/x-yaml", "text/csv"])
def test_yaml_and_csv_stay_text(stack, http, content_type):
    text = "a: 1\nb: [x, y]\n" if "yaml" in content_type else "a,b\n1,2\n"
    assert _conf(stack, http, content=text.encode(), headers={"Content-Type": content_type})["body"] == text


def test_multipart_as_kestra_2(stack, http):
    boundary = "K2boundary"
    parts = [
        'Content-Disposition: form-data; name="note"; filename=""\r\n\r\nplain field',
        'Content-Disposition: form-data; name="doc"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfirst',
        'Content-Disposition: form-data; name="doc"; filename="b.bin"\r\n\r\nsecond',
    ]
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"
    conf = _conf(stack, http, content=body.encode(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert conf["formFields"] == {"note": ["plain field"]}
    assert [(p["name"], p["filename"], p["contentType"]) for p in conf["parts"]] == [
        ("doc", "a.txt", "text/plain"), ("doc", "b.bin", None)]
    assert [base64.b64decode(p["content"]) for p in conf["parts"]] == [b"first", b"second"]


# --- 8. response headers -------------------------------------------------------------------------


def test_a_respond_rule_sets_response_headers(stack, http):
    before = run_ids(stack, "kestra2_features")
    answer = http.post(url("kestra2_features", "k2-handshake", namespace="default"), headers={"X-Hook-Secret": "s3cr3t"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-hook-secret"] == "s3cr3t"
    assert run_ids(stack, "kestra2_features") == before


# --- 7. wait ------------------------------------------------------------------------------------


def test_wait_alone_answers_with_outputs_and_its_response_code(scheduler, http):
    answer = http.post(url("kestra2_features", "k2-wait", namespace="default"), json={}, timeout=WAIT)
    assert answer.status_code == 201, answer.text  # responseCode applies with wait alone
    body = answer.json()
    assert body["state"] == {"current": "SUCCESS"}
    assert body["outputs"] == {"answer": {"answer": 42}}
    assert body["labels"] == [{"key": "w", "value": "1"}]


def test_return_outputs_without_wait_is_accepted_and_ignored(stack, http):
    answer = http.post(url("kestra2_features", "k2-ignored", namespace="default"), json={})
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == {"current": "QUEUED"} and "outputs" not in answer.json()
    command = str(Path(sys.executable).with_name("airflow-webhooks"))
    done = subprocess.run([command, "list", "--json"], env=stack.env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    entry = next(w for w in json.loads(done.stdout)["webhooks"] if w["trigger_id"] == "ignored")
    assert entry["ignored"] == ["returnOutputs"]
    text = subprocess.run([command, "list"], env=stack.env, capture_output=True, text=True, timeout=180).stdout
    assert "kestra2_features / ignored: returnOutputs has no effect without wait: true" in text

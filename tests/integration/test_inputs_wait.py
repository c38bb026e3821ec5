"""Inputs, wait, outputs, bodies, calendar conditions.

Runs execute on the session's LocalExecutor, which may take 5-20 s to pick a run up when the
machine is busy: waits that must succeed declare ``timeout: 120`` and tasks are trivial.
"""

from __future__ import annotations

import base64
import threading
import time
from datetime import datetime, timezone

import httpx
import pytest

from tests.conftest import WEBHOOK_PREFIX

pytestmark = pytest.mark.integration

WAIT = 180  # client timeout for a request that waits for a run


def url(dag_id: str, key: str, namespace: str = "default") -> str:
    return f"{WEBHOOK_PREFIX}/{namespace}/{dag_id}/{key}"


def run_ids(stack, dag_id: str) -> set[str]:
    return {run["dag_run_id"] for run in stack.list_runs(dag_id)}


# --- inputs ------------------------------------------------------------------------------------


def test_inputs_keep_their_types_in_the_conf(stack, http):
    answer = http.post(url("inputs_conf", "t3-inputs"), json={"count": 3, "tags": ["a", "b"], "name": "x"})
    assert answer.status_code == 200, answer.text
    conf = stack.get_run("inputs_conf", answer.json()["id"])["conf"]
    assert conf["count"] == 3 and isinstance(conf["count"], int)
    assert conf["tags"] == ["a", "b"]
    assert conf["label"] == "#3 x"  # text around an expression gives text
    assert conf["body"] == {"count": 3, "tags": ["a", "b"], "name": "x"}


def test_inputs_reach_the_task_with_their_types(scheduler, http):
    answer = http.post(url("inputs_conf", "t3-typed"), json={"count": 7, "tags": [1], "name": "y"}, timeout=WAIT)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"types": {"count": "int", "tags": "list", "label": "str"}}


def test_an_input_the_params_refuse_is_422_naming_the_param(stack, http):
    before = run_ids(stack, "inputs_conf")
    answer = http.post(url("inputs_conf", "t3-inputs"), json={"count": "three", "tags": [], "name": "x"})
    assert answer.status_code == 422, answer.text
    assert "count" in answer.json()["message"]
    assert run_ids(stack, "inputs_conf") == before


def test_an_input_that_fails_to_render_is_422_naming_the_param(stack, http):
    before = run_ids(stack, "inputs_conf")
    answer = http.post(url("inputs_conf", "t3-inputs"), json={"tags": [], "name": "x"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["param"] == "count" and "'count'" in answer.json()["message"]
    assert "undefined" in answer.json()["message"]
    assert run_ids(stack, "inputs_conf") == before


def test_example_webhook_inputs(stack, http):
    event = {"pull_request": {"number": 42, "title": "Fix login", "labels": [{"name": "bug"}, {"name": "ui"}]}}
    answer = http.post(url("webhook_inputs", "pr-review-5f2c9a", "demo"), json=event)
    assert answer.status_code == 200, answer.text
    conf = stack.get_run("webhook_inputs", answer.json()["id"])["conf"]
    assert (conf["pr_number"], conf["title"], conf["labels"]) == (42, "Fix login", ["bug", "ui"])
    # Kestra 2.x converts inputs to the param's type (was: "42" refused as not an integer)
    event["pull_request"]["number"] = "42"
    converted = http.post(url("webhook_inputs", "pr-review-5f2c9a", "demo"), json=event)
    assert converted.status_code == 200, converted.text
    assert stack.get_run("webhook_inputs", converted.json()["id"])["conf"]["pr_number"] == 42
    for number, reason in (("forty-two", "cannot be converted"), (0, "minimum")):
        event["pull_request"]["number"] = number
        refused = http.post(url("webhook_inputs", "pr-review-5f2c9a", "demo"), json=event)
        assert refused.status_code == 422, refused.text
        assert "pr_number" in refused.json()["message"] and reason in refused.json()["message"]


# --- wait ----------------------------------------------------------------------------------------


def test_wait_answers_200_success_with_the_run(scheduler, http):
    answer = http.post(url("wait_outputs", "t3-wait"), json={"numbers": [1, 2]}, timeout=WAIT)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"]["current"] == "SUCCESS"
    assert body["url"] == scheduler.run_url("wait_outputs", body["id"])
    assert scheduler.get_run("wait_outputs", body["id"])["state"] == "success"


def test_a_failed_run_under_wait_is_500_failed(scheduler, http):
    answer = http.post(url("wait_outputs", "t3-wait"), json={"fail": True}, timeout=WAIT)
    assert answer.status_code == 500, answer.text
    assert answer.json()["state"]["current"] == "FAILED"
    assert scheduler.get_run("wait_outputs", answer.json()["id"])["state"] == "failed"


def test_a_wait_that_runs_out_is_202_and_the_run_goes_on(scheduler, http):
    started = time.monotonic()
    answer = http.post(url("wait_outputs", "t3-short"), json={"sleep": 8}, timeout=WAIT)
    elapsed = time.monotonic() - started
    assert answer.status_code == 202, answer.text
    assert 2 <= elapsed < 30
    body = answer.json()
    assert body["state"]["current"] in ("QUEUED", "RUNNING") and "goes on" in body["message"]
    assert scheduler.wait_run("wait_outputs", body["id"], timeout=180)["state"] == "success"


def test_return_outputs_defaults_to_every_return_value(scheduler, http):
    answer = http.post(url("wait_outputs", "t3-outputs"), json={"numbers": [1, 2, 3]}, timeout=WAIT)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "compute": 6,
        # a returned "42" stays a string; a tuple is a list in JSON
        "kinds": {"text": "42", "number": 42, "list": [1, 2], "pair": [1, 2], "flag": True, "nothing": None},
    }


def test_outputs_mapping_with_xcom_and_a_templated_response_code(scheduler, http):
    answer = http.post(url("wait_outputs", "t3-mapping"), json={"numbers": [4, 5], "code": 201}, timeout=WAIT)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"total": 9, "count": 2, "numbers": [4, 5], "text": "42"}


def test_example_webhook_wait_outputs(scheduler, http):
    answer = http.post(url("webhook_wait_outputs", "sum-7d41be", "demo"), json={"numbers": [1, 2, 3]}, timeout=WAIT)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["total"] == 6 and body["count"] == 3
    assert scheduler.get_run("webhook_wait_outputs", body["run"])["state"] == "success"


def test_microsoft_graph_validation_handshake(scheduler, http):
    started = time.monotonic()
    answer = http.get(
        url("webhook_graph_validation", "graph-3b9e07", "demo") + "?validationToken=abc%20123", timeout=WAIT
    )
    elapsed = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    assert answer.content == b"abc 123"
    assert answer.headers["content-type"].startswith("text/plain")
    print(f"validationToken handshake answered in {elapsed:.1f} s")


def test_a_waiting_request_blocks_no_other_request(scheduler, http):
    waited: dict = {}

    def wait() -> None:
        with httpx.Client(base_url=scheduler.url, timeout=WAIT) as client:
            waited["answer"] = client.post(url("wait_outputs", "t3-wait"), json={"sleep": 10})

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(1.0)  # the wait is in progress: its run needs the scheduler plus 10 s
    answer = http.post(url("wait_outputs", "t3-nowait"), json={})
    assert answer.status_code == 200, answer.text
    assert waiter.is_alive(), "the other request was only answered after the wait ended"
    waiter.join(WAIT)
    assert waited["answer"].status_code == 200, waited["answer"].text
    assert waited["answer"].json()["state"]["current"] == "SUCCESS"


def test_provenance_on_the_run(scheduler, http):
    answer = http.post(url("wait_outputs", "t3-nowait"), json={})
    run_id = answer.json()["id"]
    run = scheduler.get_run("wait_outputs", run_id)
    assert "`nowait`" in run["note"] and run_id in run["note"]
    assert run["triggering_user_name"] == "webhook:default/nowait"
    assert run["run_type"] == "manual"


# --- bodies -----------------------------------------------------------------------------------


def test_a_form_body_reaches_the_conf(stack, http):
    answer = http.post(url("request_bodies", "t3-bodies"), data={"name": "john", "age": ["12", "13"]})
    assert answer.status_code == 200, answer.text
    conf = stack.get_run("request_bodies", answer.json()["id"])["conf"]
    assert conf["formFields"] == {"name": ["john"], "age": ["12", "13"]}
    assert conf["body"] == "name=john&age=12&age=13"


def test_a_multipart_body_reaches_the_conf(stack, http):
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 4
    answer = http.post(
        url("request_bodies", "t3-bodies"),
        data={"subject": "invoice", "tag": ["a", "b"]},
        files={"invoice": ("invoice-42.pdf", pdf, "application/pdf")},
    )
    assert answer.status_code == 200, answer.text
    conf = stack.get_run("request_bodies", answer.json()["id"])["conf"]
    assert conf["formFields"] == {"subject": ["invoice"], "tag": ["a", "b"]}
    (part,) = conf["parts"]
    assert {k: part[k] for k in ("name", "filename", "contentType", "size")} == {
        "name": "invoice", "filename": "invoice-42.pdf", "contentType": "application/pdf", "size": len(pdf)
    }
    assert base64.b64decode(part["content"]) == pdf


def test_an_oversize_multipart_file_is_413(stack, http):
    before = run_ids(stack, "request_bodies")
    answer = http.post(url("request_bodies", "t3-bodies"), files={"big": ("big.bin", b"\0" * (300 * 1024))})
    assert answer.status_code == 413, answer.text
    assert "big.bin" in answer.json()["message"] and "max_part_size" in answer.json()["message"]
    assert run_ids(stack, "request_bodies") == before


def test_a_binary_body_reaches_the_conf_as_base64(stack, http):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    answer = http.post(url("request_bodies", "t3-bodies"), content=png, headers={"Content-Type": "image/png"})
    assert answer.status_code == 200, answer.text
    assert base64.b64decode(stack.get_run("request_bodies", answer.json()["id"])["conf"]["body"]) == png


# --- calendar conditions ------------------------------------------------------------------------


def _today_decides(http, key: str, predicate) -> None:
    """Send the request and check it against today's UTC date (again if midnight passed meanwhile)."""
    for _ in range(3):
        before = datetime.now(timezone.utc).date()
        answer = http.post(url("conditions_calendar", key), json={})
        if datetime.now(timezone.utc).date() == before:
            assert answer.status_code == (200 if predicate(before) else 204), answer.text
            return
    pytest.fail("the date kept changing")


def test_weekend_condition_on_the_request_time(stack, http):
    _today_decides(http, "t3-weekend", lambda day: day.weekday() >= 5)


def test_day_week_condition_on_the_request_time(stack, http):
    _today_decides(http, "t3-monday", lambda day: day.weekday() == 0)


def test_public_holiday_of_a_subdivision_from_the_body(stack, http):
    assert http.post(url("conditions_calendar", "t3-holiday"), json={"day": "2024-01-06"}).status_code == 200  # Epiphany
    assert http.post(url("conditions_calendar", "t3-holiday"), json={"day": "2024-01-08"}).status_code == 204
    assert http.post(url("conditions_calendar", "t3-holiday"), json={"day": "6 January"}).status_code == 204  # not ISO


def test_work_days_in_france(stack, http):
    assert http.post(url("conditions_calendar", "t3-workday"), json={"day": "2024-07-12"}).status_code == 200  # Friday
    assert http.post(url("conditions_calendar", "t3-workday"), json={"day": "2024-07-14"}).status_code == 204  # Bastille Day
    assert http.post(url("conditions_calendar", "t3-workday"), json={"day": "2024-07-13"}).status_code == 204  # Saturday


def test_the_inputs_wait_and_calendar_dags_import_cleanly(stack):
    status, body = stack.api("GET", "/api/v2/importErrors?limit=1000")
    assert status == 200, body
    mine = ("inputs_conf.py", "wait_outputs.py", "request_bodies.py", "conditions_calendar.py",
            "webhook_inputs.py", "webhook_wait_outputs.py", "webhook_graph_validation.py")
    assert [e for e in body["import_errors"] if any(name in e["filename"] for name in mine)] == []
    for dag_id in ("inputs_conf", "wait_outputs", "request_bodies", "conditions_calendar", "webhook_inputs", "webhook_wait_outputs",
                   "webhook_graph_validation"):
        assert stack.api("GET", f"/api/v2/dags/{dag_id}")[0] == 200, dag_id

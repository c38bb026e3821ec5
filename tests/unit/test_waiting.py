"""``wait``: polling holds no database session while it sleeps, and the answer's shape."""

from __future__ import annotations

import contextlib

import pytest

from airflow_webhook_trigger import runs, waiting
from airflow_webhook_trigger.airflow import xcom
from airflow_webhook_trigger.airflow.dag_runs import common
from airflow_webhook_trigger.dispatch import wait_and_answer
from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.declarations import parse_declaration
from airflow_webhook_trigger.dispatch import Outcome


class FakeSessions:
    """Stands in for Airflow's ``create_session``: counts open sessions, answers run states."""

    def __init__(self, states: list[str]) -> None:
        self.states = list(states)
        self.open = 0
        self.opened = 0

    @contextlib.contextmanager
    def __call__(self):
        self.open += 1
        self.opened += 1
        try:
            yield self
        finally:
            self.open -= 1

    def scalar(self, _statement):
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


def test_no_session_is_open_while_a_wait_sleeps(monkeypatch):
    sessions = FakeSessions(["queued", "queued", "running", "running", "success"])
    slept: list[float] = []

    class Cancel:  # the client never goes; its wait() is the sleep between polls
        def is_set(self) -> bool:
            return False

        def wait(self, seconds: float) -> bool:
            assert sessions.open == 0, "a database session is held during the sleep"
            slept.append(seconds)
            return False

    monkeypatch.setattr(common, "create_session", sessions)
    assert runs.wait_for_run("dag", "run", timeout=60, cancel=Cancel()) == "success"
    assert sessions.opened == 5 and len(slept) == 4
    assert slept == sorted(slept) and max(slept) <= 1.0  # backs off from 0.1 s to at most 1 s


def test_a_wait_gives_up_at_its_timeout(monkeypatch):
    sessions = FakeSessions(["running"])
    clock = iter(range(0, 10_000))
    monkeypatch.setattr(common, "create_session", sessions)
    monkeypatch.setattr(runs.time, "monotonic", lambda: float(next(clock)))
    monkeypatch.setattr(runs.time, "sleep", lambda seconds: None)
    assert runs.wait_for_run("dag", "run", timeout=5) == "running"


def _trigger(**properties):
    return parse_declaration({"key": "k", "wait": True, **properties})[0]


CREATED = Outcome(200, {"id": "r1", "url": "http://airflow/dags/d/runs/r1"}, dag_id="d", run_id="r1", trigger_id="webhook")


@pytest.mark.parametrize("state, status", [("success", 200), ("failed", 500), ("running", 202), ("queued", 202)])
def test_the_status_follows_the_run(monkeypatch, state, status):
    monkeypatch.setattr(waiting, "wait_for_run", lambda dag_id, run_id, timeout, cancel=None: state)
    monkeypatch.setattr(xcom, "return_values", lambda dag_id, run_id: {"t": 1})
    answer = wait_and_answer(_trigger(), CREATED, {})
    assert answer.status == status and answer.body["state"] == {"current": state.upper()}
    assert answer.body["id"] == "r1" and answer.body["url"].endswith("/runs/r1")
    # Kestra 2.x (was: no outputs without returnOutputs): a finished run's outputs come along
    assert answer.body.get("outputs") == ({"t": 1} if state in ("success", "failed") else None)


def test_response_code_applies_with_wait_alone(monkeypatch):  # Kestra 2.x (was: returnOutputs only)
    monkeypatch.setattr(waiting, "wait_for_run", lambda dag_id, run_id, timeout, cancel=None: "success")
    monkeypatch.setattr(xcom, "return_values", lambda dag_id, run_id: {"t": 1})
    answer = wait_and_answer(_trigger(responseCode="{{ 201 }}"), CREATED, {})
    assert (answer.status, answer.body["outputs"], answer.body["id"]) == (201, {"t": 1}, "r1")


def test_text_plain_outputs_are_the_whole_body(monkeypatch):
    monkeypatch.setattr(waiting, "wait_for_run", lambda dag_id, run_id, timeout, cancel=None: "success")
    trigger = _trigger(returnOutputs=True, outputs="{{ trigger.parameters.validationToken[0] }}",
                       responseContentType="text/plain")
    answer = wait_and_answer(trigger, CREATED, {"trigger": {"parameters": {"validationToken": ["abc 123"]}}})
    assert (answer.status, answer.body, answer.content_type) == (200, "abc 123", "text/plain; charset=utf-8")


def test_a_response_code_outside_200_599_is_never_sent(monkeypatch):
    monkeypatch.setattr(waiting, "wait_for_run", lambda dag_id, run_id, timeout, cancel=None: "failed")
    monkeypatch.setattr(xcom, "return_values", lambda dag_id, run_id: {"t": 1})
    answer = wait_and_answer(_trigger(returnOutputs=True, responseCode="{{ 418 }}"), CREATED, {})
    assert (answer.status, answer.body) == (418, {"t": 1})
    for code in ("{{ 999 }}", "{{ 199 }}", "{{ 'teapot' }}", "{{ -200 }}"):  # rendered: a 500 that says why
        answer = wait_and_answer(_trigger(returnOutputs=True, responseCode=code), CREATED, {})
        assert answer.status == 500 and "200 to 599" in answer.body["message"], (code, answer)
    for code in ("teapot", "700", "99", "1000", 700):  # literal: refused when the declaration is read
        with pytest.raises(WebhookDeclarationError, match="responseCode"):
            _trigger(returnOutputs=True, responseCode=code)


def test_a_wait_stops_when_the_client_has_gone(monkeypatch):
    import threading
    import time

    from airflow_webhook_trigger import runs

    polls = []
    monkeypatch.setattr(runs.dag_runs, "run_state", lambda dag_id, run_id: polls.append(1) or "running")
    gone = threading.Event()
    threading.Timer(0.3, gone.set).start()
    started = time.monotonic()
    assert runs.wait_for_run("d", "r", 60, gone) == "running"
    assert time.monotonic() - started < 5 and len(polls) < 10
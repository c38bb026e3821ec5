"""What ``tools/stack.py`` maps so one test suite runs on Airflow 2 and 3."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools import stack  # noqa: E402

DAG = '''from __future__ import annotations

from airflow.sdk import DAG, Param, task

from airflow_webhook_trigger import webhook
'''


@pytest.fixture
def airflow2(monkeypatch):
    monkeypatch.setattr(stack, "AIRFLOW_MAJOR", 2)
    monkeypatch.setattr(stack, "AIRFLOW_VERSION", (2, 11))


def test_dag_imports_are_mapped_on_airflow2(airflow2):
    source = stack.dag_source(DAG)
    assert "airflow.sdk" not in source
    assert ("from airflow.models.dag import DAG; from airflow.models.param import Param; "
            "from airflow.decorators import task") in source
    assert "from airflow_webhook_trigger import webhook" in source
    compile(source, "dag.py", "exec")


def test_an_unknown_sdk_name_is_left_to_fail_visibly(airflow2):
    source = "from airflow.sdk import DAG, get_current_context\n"
    assert stack.dag_source(source) == source


def test_nothing_changes_on_airflow3(monkeypatch):
    monkeypatch.setattr(stack, "AIRFLOW_MAJOR", 3)
    monkeypatch.setattr(stack, "AIRFLOW_VERSION", (3, 1))
    assert stack.dag_source(DAG) == DAG
    run = {"dag_run_id": "r", "note": "Triggered by webhook trigger `a` of namespace `n`; correlation id `r`."}
    assert stack.as_airflow3_run(run) is run


def test_airflow2_run_gets_airflow3_names(airflow2):
    run = {"dag_run_id": "r", "execution_date": "2026-01-01T00:00:00.000001+00:00", "conf": {},
           "note": "Triggered by webhook trigger `alpha` of namespace `io.kestra.tests`; correlation id `r`."}
    mapped = stack.as_airflow3_run(run)
    assert mapped["triggering_user_name"] == "webhook:io.kestra.tests/alpha"
    assert mapped["run_after"] == run["execution_date"]
    assert stack.as_airflow3_run({"note": None})["triggering_user_name"] is None


def test_airflow30_run_gets_the_triggering_user_from_the_note(monkeypatch):
    """3.0's runs have no ``triggering_user_name`` (3.1): the note the plugin writes names it."""
    monkeypatch.setattr(stack, "AIRFLOW_MAJOR", 3)
    monkeypatch.setattr(stack, "AIRFLOW_VERSION", (3, 0))
    run = {"dag_run_id": "r", "run_after": "2026-01-01T00:00:00+00:00",
           "note": "Triggered by webhook trigger `alpha` of namespace `io.kestra.tests`; correlation id `r`."}
    mapped = stack.as_airflow3_run(run)
    assert mapped["triggering_user_name"] == "webhook:io.kestra.tests/alpha"
    assert mapped["run_after"] == run["run_after"]

"""The example DAGs that no recipe test drives: each one answers as its docstring says."""

from __future__ import annotations

import pytest

from tools.stack import EXAMPLE_DAG_KEYS

pytestmark = pytest.mark.integration


def test_kestra_yaml_example_fires_only_when_its_condition_holds(stack, hook):
    url = ("POST", "company.team", "webhook_kestra_yaml", EXAMPLE_DAG_KEYS["KESTRA_YAML_KEY"])
    held = hook(*url, json={"hello": "world"})
    assert held.status_code == 200, held.text
    assert held.json()["trigger"]["id"] == "webhook"
    assert stack.get_run("webhook_kestra_yaml", held.json()["dag_run_id"])["conf"]["body"] == {"hello": "world"}
    assert hook(*url, json={"hello": "moon"}).status_code == 204


def test_list_example_fires_the_trigger_whose_key_matches(stack, hook):
    prefix, key = EXAMPLE_DAG_KEYS["DEMO_KEY_PREFIX"], EXAMPLE_DAG_KEYS["DEMO_WEBHOOK_KEY"]
    by_dag_id = hook("POST", "demo", "webhook_list", f"{prefix}-webhook_list", json={})
    assert by_dag_id.status_code == 200 and by_dag_id.json()["trigger"]["id"] == "by_dag_id"
    by_secret = hook("POST", "demo", "webhook_list", key, params={"env": "prod"}, json={})
    assert by_secret.status_code == 200 and by_secret.json()["trigger"]["id"] == "by_secret"
    run = stack.get_run("webhook_list", by_secret.json()["dag_run_id"])
    assert run["conf"]["parameters"] == {"env": ["prod"]}
    assert hook("POST", "demo", "webhook_list", "not-a-key", json={}).status_code == 404

"""Issue 2: an invalid declaration (a raw dict in a t2 DAG's params, which imports fine) answers
404, leaves the api-server serving, is logged, and is reported by the listing, read here through
the ``airflow-webhooks list`` console script run in the stack's environment. No key value
appears in the listing nor in the api-server's log.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.integration

NS = "io.kestra.tests"
PREFIX = "/api/v1/executions/webhook"
NOT_FOUND = b'{"message": "Not Found: webhook not found"}'
# Every key value the t2 DAGs hold: none may appear in a listing or a log.
KEYS = (
    "a-secret-key", "condition-key", "disabled-key", "paused-key", "params-key", "shared-key", "gamma-key",
    "yaml-key", "yaml-legacy-key", "injection-key", "t2-invalid-key-value", "clé-🔑", "default-namespace-key",
)


def listing(stack, *args: str) -> subprocess.CompletedProcess:
    command = str(Path(sys.executable).with_name("airflow-webhooks"))
    done = subprocess.run([command, "list", *args], env=stack.env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_an_invalid_declaration_is_404_listed_and_harmless(stack, http):
    response = http.post(f"{PREFIX}/{NS}/t2_invalid/t2-invalid-key-value", json={"a": 1})
    assert (response.status_code, response.content) == (404, NOT_FOUND)
    assert http.get(stack.health_url).status_code == 200
    still = http.post(f"{PREFIX}/{NS}/t2_webhook/a-secret-key", json={"still": "served"})
    assert still.status_code == 200, still.text
    server_log = stack.log("api-server")
    assert "Invalid webhook declaration in DAG t2_invalid" in server_log
    assert "t2-invalid-key-value" not in server_log and "a-secret-key" not in server_log  # keys masked

    listed = json.loads(listing(stack, "--json").stdout)
    (invalid,) = [i for i in listed["invalid"] if i["dag_id"] == "t2_invalid"]
    assert invalid["reason"] == "webhook.conditions[0].type: conditions of type MultipleCondition are not supported"
    assert invalid["fileloc"].endswith("t2_invalid.py")
    assert not [w for w in listed["webhooks"] if w["dag_id"] == "t2_invalid"]

    hooks = {(w["dag_id"], w["trigger_id"]): w for w in listed["webhooks"]}
    assert hooks[("t2_webhook", "webhook")]["url"] == f"{stack.url}{PREFIX}/{NS}/t2_webhook/***"
    assert hooks[("t2_webhook", "webhook")]["namespace"] == NS
    assert hooks[("t2_disabled", "webhook")]["disabled"] is True
    assert hooks[("t2_webhook", "webhook")]["disabled"] is False and hooks[("t2_webhook", "webhook")]["paused"] is False
    assert hooks[("t2_webhook_condition", "webhook")]["conditions"] == [
        "ExpressionCondition {{ trigger.body.hello == 'world' }}"
    ]
    assert [k for k in hooks if k[0] == "t2_list"] == [("t2_list", "alpha"), ("t2_list", "beta"), ("t2_list", "gamma")]
    assert hooks[("t2_unicode", "webhook")]["url"].endswith(f"/{quote('équipe.données', safe='')}/t2_unicode/***")

    table = listing(stack).stdout
    assert "conditions of type MultipleCondition are not supported" in table and "t2_invalid" in table
    assert "t2_webhook_condition" in table
    for output in (json.dumps(listed, ensure_ascii=False), table):
        leaked = [key for key in KEYS if key in output]
        assert not leaked, leaked

"""An invalid declaration (a raw dict in a test DAG's params, which imports fine) answers
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
    response = http.post(f"{PREFIX}/{NS}/declaration_invalid/t2-invalid-key-value", json={"a": 1})
    assert (response.status_code, response.content) == (404, NOT_FOUND)
    assert http.get(stack.health_url).status_code == 200
    still = http.post(f"{PREFIX}/{NS}/endpoint_webhook/a-secret-key", json={"still": "served"})
    assert still.status_code == 200, still.text
    server_log = stack.log("api-server")
    assert "Invalid webhook declaration in DAG declaration_invalid" in server_log
    assert "t2-invalid-key-value" not in server_log and "a-secret-key" not in server_log  # keys masked

    listed = json.loads(listing(stack, "--json").stdout)
    (invalid,) = [i for i in listed["invalid"] if i["dag_id"] == "declaration_invalid"]
    assert invalid["reason"] == "webhook.conditions[0].type: conditions of type MultipleCondition are not supported"
    assert invalid["fileloc"].endswith("declaration_invalid.py")
    assert not [w for w in listed["webhooks"] if w["dag_id"] == "declaration_invalid"]

    hooks = {(w["dag_id"], w["trigger_id"]): w for w in listed["webhooks"]}
    assert hooks[("endpoint_webhook", "webhook")]["url"] == f"{stack.url}{PREFIX}/{NS}/endpoint_webhook/***"
    assert hooks[("endpoint_webhook", "webhook")]["namespace"] == NS
    assert hooks[("endpoint_disabled", "webhook")]["disabled"] is True
    assert hooks[("endpoint_webhook", "webhook")]["disabled"] is False and hooks[("endpoint_webhook", "webhook")]["paused"] is False
    assert hooks[("endpoint_condition", "webhook")]["conditions"] == [
        "ExpressionCondition {{ trigger.body.hello == 'world' }}"
    ]
    assert [k for k in hooks if k[0] == "declaration_list"] == [("declaration_list", "alpha"), ("declaration_list", "beta"), ("declaration_list", "gamma")]
    assert hooks[("endpoint_unicode", "webhook")]["url"].endswith(f"/{quote('équipe.données', safe='')}/endpoint_unicode/***")

    table = listing(stack).stdout
    assert "conditions of type MultipleCondition are not supported" in table and "declaration_invalid" in table
    assert "endpoint_condition" in table
    for output in (json.dumps(listed, ensure_ascii=False), table):
        leaked = [key for key in KEYS if key in output]
        assert not leaked, leaked

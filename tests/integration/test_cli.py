"""Issue 6: the ``airflow-webhooks`` console script (and ``airflow webhooks``) against a real Airflow.

Each subcommand runs as a subprocess in the shared stack's environment (its AIRFLOW_HOME and
database), as an operator would run it next to the api-server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = str(Path(sys.executable).with_name("airflow-webhooks"))
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@pytest.fixture(scope="module")
def cli(stack):
    status, body = stack.api("POST", "/api/v2/variables", {"key": "T6_CLI_SECRET", "value": "t6-cli-secret"})
    assert status in (201, 409), body

    def run(*args: str, program: str = SCRIPT, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([program, *args], env=stack.env, capture_output=True, text=True, timeout=timeout)

    return run


def test_list_masks_keys_and_reports_problems(cli, stack):
    done = cli("list", "--json")
    assert done.returncode == 0, done.stderr
    assert "Reading webhook declarations" in done.stderr  # progress on stderr, JSON on stdout
    listing = json.loads(done.stdout)
    mine = {w["trigger_id"]: w for w in listing["webhooks"] if w["dag_id"] == "t6_cli"}
    assert mine["main"]["url"] == f"{stack.url}/api/v1/executions/webhook/t6/t6_cli/***"
    assert mine["main"]["problems"] == []
    (problem,) = mine["broken"]["problems"]
    assert "T6_CLI_MISSING" in problem and "airflow variables set T6_CLI_MISSING" in problem
    assert "airflow variables set T6_CLI_MISSING" in cli("list").stdout
    assert "t6-cli-KEY" not in done.stdout

    table = cli("list")
    assert table.returncode == 0 and "t6_cli" in table.stdout and "PROBLEMS" in table.stdout
    assert "t6-cli-KEY" not in table.stdout


def test_url_prints_the_key_and_errors_say_what_to_change(cli, stack):
    done = cli("url", "t6_cli", "--trigger", "main")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{stack.url}/api/v1/executions/webhook/t6/t6_cli/t6-cli-KEY"

    broken = cli("url", "t6_cli", "--trigger", "broken")
    assert broken.returncode == 2 and "airflow variables set T6_CLI_MISSING" in broken.stderr
    unknown = cli("url", "t6_no_such_dag")
    assert unknown.returncode == 2 and "declares no webhook" in unknown.stderr and "t6_cli" in unknown.stderr
    wrong_trigger = cli("url", "t6_cli", "--trigger", "nope")
    assert wrong_trigger.returncode == 2 and "main, broken" in wrong_trigger.stderr


def test_dry_run_explains_without_creating_a_run(cli, stack):
    runs_before = len(stack.list_runs("t6_cli"))
    done = cli("test", "t6_cli", "--trigger", "main", "--body", '{"action": "go", "who": "me"}',
               "--header", "X-Request-Id: 42", "--param", "env=prod")
    assert done.returncode == 0, done.stderr
    assert "-> 200: a run would be created" in done.stdout
    assert "[x] ExpressionCondition {{ trigger.body.action == 'go' }}: true" in done.stdout
    assert '"who": "me"' in done.stdout and '"env": [' in done.stdout and "github: not checked" in done.stdout

    no = cli("test", "t6_cli", "--trigger", "main", "--body", '{"action": "stop"}', "--json")
    assert no.returncode == 1
    (report,) = json.loads(no.stdout)
    assert report["status"] == 204 and report["conditions"][0]["holds"] is False and report["conf"] is None

    wrong_key = cli("test", "t6_cli", "--key", "not-a-key", "--body", "{}", "--json")
    assert [r["key"] for r in json.loads(wrong_key.stdout)][0] == "does not match"
    assert len(stack.list_runs("t6_cli")) == runs_before


def test_send_signs_with_the_declared_secret(cli, stack):
    done = cli("send", "t6_cli", "--trigger", "main", "--url", stack.url, "--body", '{"action": "go", "who": "cli"}')
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("HTTP 200") and "signed as github" in done.stderr and "/t6_cli/***" in done.stderr
    run_id = json.loads(done.stdout.split("\n", 1)[1])["dag_run_id"]
    assert stack.get_run("t6_cli", run_id)["conf"]["who"] == "cli"

    unsigned = cli("send", "t6_cli", "--trigger", "main", "--url", stack.url, "--body", '{"action": "go"}', "--no-sign")
    assert unsigned.returncode == 1 and unsigned.stdout.startswith("HTTP 401")

    preset = cli("send", "t6_cli", "--trigger", "main", "--url", stack.url, "--preset", "github")
    assert preset.returncode == 0 and preset.stdout.startswith("HTTP 204")  # a push has no "action": go

    several = cli("send", "t6_cli", "--url", stack.url)
    assert several.returncode == 2 and "--trigger" in several.stderr
    down = cli("send", "t6_cli", "--trigger", "main", "--url", "http://127.0.0.1:9", "--body", "{}")
    assert down.returncode == 2 and "cannot reach Airflow" in down.stderr


# Airflow loads CLI commands from providers (get_provider_info()["cli"]) from 3.2 on: before, the console script only
@pytest.mark.requires_airflow(3, 2)
def test_airflow_webhooks_group_in_airflows_own_cli(cli, stack):
    done = cli("webhooks", "url", "t6_cli", "--trigger", "main", program=AIRFLOW)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("/api/v1/executions/webhook/t6/t6_cli/t6-cli-KEY")
    failed = cli("webhooks", "url", "t6_no_such_dag", program=AIRFLOW)
    assert failed.returncode == 2 and "declares no webhook" in failed.stderr

"""The ``airflow-webhooks`` console script (and ``airflow webhook-trigger``) against a real Airflow.

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
    status, body = stack.api("POST", "/api/v2/variables", {"key": "CLI_SECRET", "value": "t6-cli-secret"})
    assert status in (201, 409), body

    def run(*args: str, program: str = SCRIPT, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([program, *args], env=stack.env, capture_output=True, text=True, timeout=timeout)

    return run


def test_list_masks_keys_and_reports_problems(cli, stack):
    done = cli("list", "--json")
    assert done.returncode == 0, done.stderr
    assert "Reading webhook declarations" in done.stderr  # progress on stderr, JSON on stdout
    listing = json.loads(done.stdout)
    mine = {w["trigger_id"]: w for w in listing["webhooks"] if w["dag_id"] == "cli_commands"}
    assert mine["main"]["url"] == f"{stack.url}/api/v1/executions/webhook/t6/cli_commands/***"
    assert mine["main"]["problems"] == []
    (problem,) = mine["broken"]["problems"]
    assert "CLI_MISSING" in problem and "airflow variables set CLI_MISSING" in problem
    assert "airflow variables set CLI_MISSING" in cli("list").stdout
    assert "t6-cli-KEY" not in done.stdout

    table = cli("list")
    assert table.returncode == 0 and "cli_commands" in table.stdout and "PROBLEMS" in table.stdout
    assert "t6-cli-KEY" not in table.stdout

    # ``main``'s key is written in the DAG file: flagged as visible to DAG readers; ``broken``'s reads a secret
    assert mine["main"]["literal_key"] is True and mine["broken"]["literal_key"] is False
    flagged = table.stdout.split("Literal keys, visible to everyone who can read the DAG", 1)[1]
    assert "cli_commands / main" in flagged and "cli_commands / broken" not in flagged


def test_url_prints_the_key_and_errors_say_what_to_change(cli, stack):
    done = cli("url", "cli_commands", "--trigger", "main")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{stack.url}/api/v1/executions/webhook/t6/cli_commands/t6-cli-KEY"

    broken = cli("url", "cli_commands", "--trigger", "broken")
    assert broken.returncode == 2 and "airflow variables set CLI_MISSING" in broken.stderr
    unknown = cli("url", "audit_no_such_dag")
    assert unknown.returncode == 2 and "declares no webhook" in unknown.stderr and "cli_commands" in unknown.stderr
    wrong_trigger = cli("url", "cli_commands", "--trigger", "nope")
    assert wrong_trigger.returncode == 2 and "main, broken" in wrong_trigger.stderr


def test_dry_run_explains_without_creating_a_run(cli, stack):
    runs_before = len(stack.list_runs("cli_commands"))
    done = cli("test", "cli_commands", "--trigger", "main", "--body", '{"action": "go", "who": "me"}',
               "--header", "X-Request-Id: 42", "--param", "env=prod")
    assert done.returncode == 0, done.stderr
    assert "-> 200: a run would be created" in done.stdout
    assert "[x] ExpressionCondition {{ trigger.body.action == 'go' }}: true" in done.stdout
    assert '"who": "me"' in done.stdout and '"env": [' in done.stdout and "github: not checked" in done.stdout

    no = cli("test", "cli_commands", "--trigger", "main", "--body", '{"action": "stop"}', "--json")
    assert no.returncode == 1
    (report,) = json.loads(no.stdout)
    assert report["status"] == 204 and report["conditions"][0]["holds"] is False and report["conf"] is None

    wrong_key = cli("test", "cli_commands", "--key", "not-a-key", "--body", "{}", "--json")
    assert [r["key"] for r in json.loads(wrong_key.stdout)][0] == "does not match"
    assert len(stack.list_runs("cli_commands")) == runs_before


def test_send_signs_with_the_declared_secret(cli, stack):
    done = cli("send", "cli_commands", "--trigger", "main", "--url", stack.url, "--body", '{"action": "go", "who": "cli"}')
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("HTTP 200") and "signed as github" in done.stderr and "/cli_commands/***" in done.stderr
    run_id = json.loads(done.stdout.split("\n", 1)[1])["dag_run_id"]
    assert stack.get_run("cli_commands", run_id)["conf"]["who"] == "cli"

    unsigned = cli("send", "cli_commands", "--trigger", "main", "--url", stack.url, "--body", '{"action": "go"}', "--no-sign")
    assert unsigned.returncode == 1 and unsigned.stdout.startswith("HTTP 401")

    preset = cli("send", "cli_commands", "--trigger", "main", "--url", stack.url, "--preset", "github")
    assert preset.returncode == 0 and preset.stdout.startswith("HTTP 204")  # a push has no "action": go

    several = cli("send", "cli_commands", "--url", stack.url)
    assert several.returncode == 2 and "--trigger" in several.stderr
    down = cli("send", "cli_commands", "--trigger", "main", "--url", "http://127.0.0.1:9", "--body", "{}")
    assert down.returncode == 2 and "cannot reach Airflow" in down.stderr


# Airflow loads CLI commands from providers (get_provider_info()["cli"]) from 3.2 on: before, the console script only
@pytest.mark.requires_airflow(3, 2)
def test_airflow_webhook_trigger_group_in_airflows_own_cli(cli, stack):
    done = cli("webhook-trigger", "url", "cli_commands", "--trigger", "main", program=AIRFLOW)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("/api/v1/executions/webhook/t6/cli_commands/t6-cli-KEY")
    failed = cli("webhook-trigger", "url", "audit_no_such_dag", program=AIRFLOW)
    assert failed.returncode == 2 and "declares no webhook" in failed.stderr

"""This package beside ``airflow-provider-inbound-webhooks``, the other webhook provider a platform
team may run: both register a provider, a plugin and an ``airflow`` command group, and two groups
of one name make every ``airflow`` command fail (``CliConflictError``), so ours is
``webhook-trigger`` and theirs ``webhooks``.

That provider is never installed into the test environment (it brings its own plugin, table and
commands): ``scripts/inbound-webhooks`` installs it into a folder of its own, and these tests add
that folder to ``PYTHONPATH`` for the ``airflow`` commands they run against the shared stack.
Skipped when the folder is missing (``scripts/test`` makes it; ``WEBHOOK_INBOUND_WEBHOOKS``
names another one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
FOLDER = Path(os.environ.get("WEBHOOK_INBOUND_WEBHOOKS") or REPO / ".inbound-webhooks")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.airflow3_only,  # airflow-provider-inbound-webhooks needs Airflow >= 3.1.1
    pytest.mark.skipif(not (FOLDER / "airflow_inbound_webhooks").is_dir(),
                       reason=f"airflow-provider-inbound-webhooks is not in {FOLDER}: run bash scripts/inbound-webhooks"),
]


@pytest.fixture(scope="module")
def both(stack):
    """``airflow ...`` in the stack's environment with the inbound-webhooks provider importable too."""
    env = {**stack.env, "PYTHONPATH": os.pathsep.join(filter(None, [stack.env.get("PYTHONPATH"), str(FOLDER)]))}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=180)

    return run


def test_airflow_starts_with_both_providers(both):
    done = both("providers", "list", "--output", "json")
    assert done.returncode == 0, done.stderr[-3000:]  # a CliConflictError would stop it here
    packages = {p["package_name"] for p in json.loads(done.stdout)}
    assert {"airflow-webhook-trigger", "airflow-provider-inbound-webhooks"} <= packages
    version = both("version")
    assert version.returncode == 0 and version.stdout.strip()[:1].isdigit(), version.stderr[-3000:]


def test_each_command_group_is_its_own(both, stack):
    ours = both("webhook-trigger", "list", "--json")
    assert ours.returncode == 0, ours.stderr[-3000:]
    # Airflow's CLI logs to stdout: the invalid test declarations' warnings come before the JSON
    listed = {(w["dag_id"], w["trigger_id"]) for w in json.loads(ours.stdout[ours.stdout.index("{\n"):])["webhooks"]}
    assert ("cli_commands", "main") in listed
    theirs = both("webhooks", "--help")
    assert theirs.returncode == 0 and "deliveries" in theirs.stdout, theirs.stdout + theirs.stderr[-2000:]


def test_both_plugins_load_and_both_config_sections_are_known(both):
    plugins = both("plugins", "--output", "json")
    assert plugins.returncode == 0, plugins.stderr[-3000:]
    prefixes = {app["url_prefix"] for plugin in json.loads(plugins.stdout) for app in plugin["fastapi_apps"]}
    assert {"/api/v1/executions/webhook", "/webhooks"} <= prefixes
    ours = both("config", "get-value", "webhook_trigger", "default_namespace")
    assert ours.returncode == 0 and ours.stdout.strip() == "default", ours.stderr[-2000:]
    sections = both("config", "list", "--section", "inbound_webhooks")
    assert sections.returncode == 0 and "[inbound_webhooks]" in sections.stdout, sections.stderr[-2000:]

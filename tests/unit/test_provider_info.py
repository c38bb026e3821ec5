"""The package as an Airflow provider: its provider info passes the installed Airflow's schema, and
the ``[webhook_trigger]`` options (``config.OPTIONS``) reach Airflow's configuration through it,
so ``airflow config get-value`` and ``airflow config list`` know them (on Airflow 3 and 2.11).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from airflow_webhook_trigger import __version__, config
from airflow_webhook_trigger.cli.airflow_group import GROUP, get_provider_info

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
PARSE = {"string": str, "integer": int, "float": float, "boolean": lambda v: {"true": True, "false": False}[v.lower()]}


def test_provider_info_passes_the_installed_airflows_schema():
    import jsonschema

    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    assert info["package-name"] == "airflow-webhook-trigger" and info["versions"] == [__version__]


def test_the_config_section_is_the_options_table():
    (section, described), = get_provider_info()["config"].items()
    assert section == config.SECTION
    options = described["options"]
    assert list(options) == [option.name for option in config.OPTIONS]
    for option in config.OPTIONS:
        entry = options[option.name]
        assert entry["default"] == option.default and entry["type"] == option.type
        assert entry["description"] and entry["version_added"]
        assert set(entry) >= {"description", "version_added", "type", "example", "default"}
        if option.default:  # each default reads as its declared type (base_url's empty default means "unset")
            PARSE[option.type](option.default)


def _airflow(*args: str, home: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PYTHONWARNINGS": "ignore"}
    env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW__WEBHOOK_TRIGGER__")}
    return subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def airflow_home():
    with tempfile.TemporaryDirectory(prefix="webhook-config-") as home:
        yield home


def test_airflow_config_get_value_knows_the_defaults(airflow_home):
    done = _airflow("config", "get-value", "webhook_trigger", "default_namespace", home=airflow_home)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "default"
    assert "not found" not in done.stderr


def test_airflow_config_list_shows_the_section(airflow_home):
    done = _airflow("config", "list", "--section", "webhook_trigger", "--show-values", "--include-descriptions",
                    home=airflow_home)
    if done.returncode != 0 and "--show-values" in done.stderr:  # Airflow 2.11 shows values without the flag
        done = _airflow("config", "list", "--section", "webhook_trigger", "--include-descriptions", home=airflow_home)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[webhook_trigger]" in done.stdout
    for option in config.OPTIONS:
        assert f"{option.name} = {option.default}".strip() in done.stdout, done.stdout
    assert config.OPTIONS[0].description in done.stdout


def test_the_cli_group_is_not_named_like_inbound_webhooks_one():
    """``airflow-provider-inbound-webhooks`` registers ``airflow webhooks``: the same name twice
    stops every ``airflow`` command (CliConflictError). What Airflow's CLI is handed (the provider
    info's ``cli`` callable) is one group, not named ``webhooks``, with every command of the
    console script. tests/integration/test_coexistence.py runs both together when that provider
    is at hand."""
    import importlib

    from airflow_webhook_trigger.cli.commands import COMMANDS

    (path,) = get_provider_info()["cli"]
    module, _, name = path.rpartition(".")
    (group,) = getattr(importlib.import_module(module), name)()
    assert group.name == GROUP == "webhook-trigger"
    assert [command.name for command in group.subcommands] == list(COMMANDS)


def test_the_readme_options_table_is_config_options():
    """The README's Configuration table names every option, and no other, with its default (an
    option whose default is empty shows what empty means instead)."""
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    shown: dict[str, str] = {}
    for row in table.splitlines()[4:]:
        names_cell, defaults_cell = row.split("|")[1:3]
        names = re.findall(r"`([a-z_]+)`", names_cell)
        defaults = re.findall(r"`([^`]*)`", defaults_cell) or [defaults_cell.strip()] * len(names)
        assert len(names) == len(defaults), row
        shown.update(zip(names, defaults))
    assert sorted(shown) == sorted(option.name for option in config.OPTIONS)
    for option in config.OPTIONS:
        if option.default:
            assert shown[option.name] == option.default, option.name

"""What every CLI subcommand needs: progress on stderr, errors that say what to change, finding
a DAG's triggers in the index, and reading --body / --header / --param.

Why stderr for progress: stdout carries the answer (a URL, JSON), so ``$(airflow-webhooks url
my_dag)`` and ``... --json | jq`` keep working while a person still sees what is going on.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from airflow_webhook_trigger.airflow.database import is_database_unavailable
from airflow_webhook_trigger.airflow.links import ui_base_url
from airflow_webhook_trigger.declarations import WebhookTrigger
from airflow_webhook_trigger.index import WebhookIndex

__all__ = ["CliError", "say", "load_index", "dag_triggers", "read_body", "parse_headers", "parse_params", "base_url"]


class CliError(Exception):
    """A mistake the person can fix; the message says how. Printed without a traceback."""


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def load_index():
    """A fresh index read from this environment's Airflow database, as the api-server reads it."""
    home = os.environ.get("AIRFLOW_HOME", "~/airflow")
    say(f"Reading webhook declarations from the Airflow database (AIRFLOW_HOME={home}) ...")
    index = WebhookIndex()
    try:
        # Airflow logs to stdout (e.g. the index's warning about an invalid declaration), and
        # importing Airflow here sets its logging up: keep stdout for the answer.
        with contextlib.redirect_stdout(sys.stderr):
            index.refresh()
    except Exception as exc:  # noqa: BLE001 - any failure here is "cannot read the database"
        if is_database_unavailable(exc) or "no such table" in str(exc).lower():
            raise CliError(f"cannot read the Airflow database ({type(exc).__name__}): run this where the "
                           "api-server runs, with the same AIRFLOW_HOME / [database] sql_alchemy_conn, "
                           "after `airflow db migrate`") from None
        raise
    return index


def dag_triggers(index, dag_id: str, *, namespace: str | None = None,
                 trigger_id: str | None = None) -> list[tuple[str, WebhookTrigger]]:
    """``(namespace, trigger)`` pairs the DAG declares; a CliError that says why there are none."""
    pairs = [(e.namespace, t) for e in index.entries() if e.dag_id == dag_id for t in e.triggers
             if namespace is None or e.namespace == namespace]
    if not pairs:
        invalid = [i for i in index.invalid() if i.dag_id == dag_id]
        if invalid:
            where_declared = invalid[0].fileloc or "its DAG file"
            raise CliError(f"DAG {dag_id!r} has an invalid webhook declaration in {where_declared}: "
                           f"{invalid[0].reason}")
        known = sorted({e.dag_id for e in index.entries()})
        where = f" in namespace {namespace!r}" if namespace else ""
        raise CliError(f"DAG {dag_id!r} declares no webhook{where} (DAGs with webhooks: {', '.join(known) or 'none'}); "
                       "check the DAG id, or run `airflow dags reserialize` if you just added the declaration")
    if trigger_id is not None:
        chosen = [(ns, t) for ns, t in pairs if t.id == trigger_id]
        if not chosen:
            raise CliError(f"DAG {dag_id!r} has no webhook trigger {trigger_id!r}; its triggers: "
                           f"{', '.join(t.id for _, t in pairs)}")
        return chosen
    return pairs


def read_body(value: str | None) -> bytes:
    """``--body TEXT``, ``--body @file`` or ``--body -`` (stdin), like curl's ``-d``."""
    if value is None:
        return b""
    if value == "-":
        return sys.stdin.buffer.read()
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        if not path.is_file():
            raise CliError(f"--body {value}: no such file {str(path)!r}")
        return path.read_bytes()
    return value.encode()


def guess_content_type(body: bytes) -> str:
    try:
        json.loads(body)
        return "application/json"
    except ValueError:
        return "text/plain"


def parse_headers(values: list[str] | None) -> list[tuple[str, str]]:
    """``--header 'X-GitHub-Event: push'`` (repeatable) -> pairs."""
    pairs = []
    for value in values or ():
        name, sep, text = value.partition(":")
        if not sep or not name.strip():
            raise CliError(f"--header {value!r}: write it as 'Name: value', e.g. --header 'X-GitHub-Event: push'")
        pairs.append((name.strip(), text.strip()))
    return pairs


def parse_params(values: list[str] | None) -> list[tuple[str, str]]:
    """``--param name=value`` (repeatable) -> query pairs."""
    pairs = []
    for value in values or ():
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise CliError(f"--param {value!r}: write it as name=value, e.g. --param env=prod")
        pairs.append((name, text))
    return pairs


def base_url(explicit: str | None) -> str:
    """--url / --base-url, else [webhook_trigger] base_url or [api] base_url, else localhost:8080."""
    if explicit:
        return explicit.rstrip("/")
    configured = ui_base_url()
    if configured:
        return configured
    say("No [api] base_url configured: using http://localhost:8080 (set [api] base_url or pass --url)")
    return "http://localhost:8080"

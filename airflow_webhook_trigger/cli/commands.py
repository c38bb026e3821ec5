"""``airflow-webhooks`` (and ``airflow webhook-trigger``): the command line for people operating webhooks.

One function per subcommand (``cmd_<name>``), each declared once in ``COMMANDS`` with its
arguments; ``build_parser`` turns that table into the argparse parser of the console script,
and ``airflow_group.get_cli_commands`` into Airflow's own ``airflow webhook-trigger ...`` group. Both run
in an Airflow environment (same AIRFLOW_HOME and configuration as the api-server) and read the
same index the api-server serves from. Progress goes to stderr, answers to stdout; an error
says what to change and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from airflow_webhook_trigger.cli import samples, sending
from airflow_webhook_trigger.cli.dry_run import dry_run, how_to_fix, render_key, trigger_problems
from airflow_webhook_trigger.cli.samples import SAMPLES
from airflow_webhook_trigger.cli.sending import SendError
from airflow_webhook_trigger.cli.support import (
    CliError,
    base_url,
    dag_triggers,
    guess_content_type,
    load_index,
    parse_headers,
    parse_params,
    read_body,
    say,
)
from airflow_webhook_trigger.listing import list_webhooks
from airflow_webhook_trigger.request import WebhookRequest
from airflow_webhook_trigger.templating import TemplateRenderError
from airflow_webhook_trigger.urls import webhook_url

__all__ = ["main", "build_parser", "cmd_list", "cmd_url", "cmd_test", "cmd_send", "COMMANDS"]


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    """Every declared webhook (key masked), its problems, and every invalid declaration with its reason."""
    index = load_index()
    listing = list_webhooks(index, base_url=getattr(args, "base_url", None))
    triggers = {(e.namespace, e.dag_id, t.id): t for e in index.entries() for t in e.triggers}
    for w in listing["webhooks"]:
        trigger = triggers.get((w["namespace"], w["dag_id"], w["trigger_id"]))
        w["problems"] = trigger_problems(trigger, w["dag_id"], w["namespace"]) if trigger else []
    if args.json:
        print(json.dumps(listing, indent=2, ensure_ascii=False))
        return 0
    rows = [
        [w["namespace"], w["dag_id"], w["trigger_id"], _state(w), f"asset {w['asset']}" if w["asset"] else "run",
         _short("; ".join(w["conditions"])) or "-", w["url"], str(len(w["problems"])) if w["problems"] else "-"]
        for w in listing["webhooks"]
    ]
    print(_table(rows, ["NAMESPACE", "DAG", "TRIGGER", "STATE", "STARTS", "CONDITIONS", "URL", "PROBLEMS"])
          if rows else "No webhooks declared.")
    problems = [(w, p) for w in listing["webhooks"] for p in w["problems"]]
    if problems:
        print("\nProblems (what to change):")
        for w, problem in problems:
            print(f"  {w['dag_id']} / {w['trigger_id']}: {problem}")
    ignored = [(w, name) for w in listing["webhooks"] for name in w.get("ignored", ())]
    if ignored:
        print("\nIgnored, as in Kestra 2.x:")
        for w, name in ignored:
            print(f"  {w['dag_id']} / {w['trigger_id']}: {name} has no effect without wait: true")
    literal = [w for w in listing["webhooks"] if w.get("literal_key")]
    if literal:
        print("\nLiteral keys, visible to everyone who can read the DAG (use \"{{ secret('NAME') }}\", "
              "then `airflow variables set NAME <key>`):")
        for w in literal:
            print(f"  {w['dag_id']} / {w['trigger_id']}")
    if listing["invalid"]:
        print("\nInvalid declarations (their URLs answer 404):")
        rows = [[i["dag_id"], i["fileloc"] or "-", i["reason"]] for i in listing["invalid"]]
        print(_table(rows, ["DAG", "FILE", "REASON"]))
    return 0


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _state(webhook: dict[str, Any]) -> str:
    if webhook["disabled"]:
        return "disabled"
    return "paused" if webhook["paused"] else "active"


def cmd_url(args: argparse.Namespace) -> int:
    """The full URL of a DAG's webhook, key included: for the person allowed to read the key."""
    pairs = dag_triggers(load_index(), args.dag_id, namespace=args.namespace, trigger_id=args.trigger)
    base = base_url(args.base_url)
    lines = []
    for namespace, trigger in pairs:
        try:
            key = render_key(trigger, args.dag_id, namespace)
        except TemplateRenderError as exc:
            raise CliError(f"the key of trigger {trigger.id!r} does not render ({exc}): {how_to_fix(exc)}") from None
        lines.append((trigger.id, webhook_url(base, namespace, args.dag_id, key)))
    if len(lines) == 1:
        print(lines[0][1])
    else:
        say(f"DAG {args.dag_id!r} has {len(lines)} webhook triggers; pass --trigger ID for one URL only")
        for trigger_id, url in lines:
            print(f"{trigger_id}\t{url}")
    return 0


def _request(args: argparse.Namespace, body: bytes, headers: list[tuple[str, str]], host: str):
    if body and not any(name.lower() == "content-type" for name, _ in headers):
        headers = [*headers, ("Content-Type", guess_content_type(body))]
    return WebhookRequest(method=args.method.upper(), headers=tuple(headers), query=tuple(parse_params(args.param)),
                          body=body, host_url=host)


def cmd_test(args: argparse.Namespace) -> int:
    """Dry run: which trigger would answer, each condition and why, the run's conf. No run is created."""
    index = load_index()
    pairs = dag_triggers(index, args.dag_id, namespace=args.namespace, trigger_id=args.trigger)
    request = _request(args, read_body(args.body), parse_headers(args.header), base_url(args.base_url) + "/")
    entry = next((e for e in index.entries() if e.dag_id == args.dag_id), None)
    reports = dry_run(pairs, request, args.dag_id, key=args.key, paused=index.is_paused(args.dag_id),
                      input_types=dict(entry.input_types) if entry is not None else None)
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], indent=2, default=str, ensure_ascii=False))
    else:
        print(f"Dry run of {request.method} to DAG {args.dag_id!r}: nothing is created, no rate limit is used.")
        for report in reports:
            _print_report(report)
    return 0 if any(200 <= r.status < 300 and r.status != 204 for r in reports) else 1


def _print_report(report) -> None:
    print(f"\ntrigger {report.trigger_id!r} (namespace {report.namespace!r}) -> "
          f"{report.status or '-'}: {report.verdict}")
    print(f"  key: {report.key}\n  state: {report.state}\n  signature: {report.signature}")
    for line in report.respond:
        print(f"  {line}")
    if report.conditions:
        print("  conditions:")
        for description, holds, why in report.conditions:
            print(f"    [{'x' if holds else ' '}] {description}: {why}")
    if report.response is not None:
        print(f"  answer body: {json.dumps(report.response, ensure_ascii=False, default=str)}")
    if report.conf is not None:
        print(f"  {'correlation' if report.asset else 'run'} id: {report.run_id}")
        print(f"  {'event extra' if report.asset else 'run conf'}: " + json.dumps(report.conf, indent=2, ensure_ascii=False, default=str).replace("\n", "\n  "))


def cmd_send(args: argparse.Namespace) -> int:
    """Sign a delivery with the trigger's secret and send it to a running Airflow; print the answer."""
    pairs = dag_triggers(load_index(), args.dag_id, namespace=args.namespace, trigger_id=args.trigger)
    if len(pairs) > 1:
        raise CliError(f"DAG {args.dag_id!r} has several webhook triggers ({', '.join(t.id for _, t in pairs)}): "
                       "pass --trigger ID")
    namespace, trigger = pairs[0]
    declared = trigger.signature.type if trigger.signature is not None else None
    preset = args.preset or (declared if declared in samples.SAMPLES else "curl")
    if args.preset and declared and not args.preset.startswith(declared):
        say(f"Note: trigger {trigger.id!r} verifies {declared} signatures; "
            f"the {args.preset} payload is signed as {declared}")
    example = samples.sample(preset)
    body = read_body(args.body) if args.body is not None else example.body
    headers = dict(example.headers) if args.body is None else {}
    headers["Content-Type"] = example.content_type if args.body is None else guess_content_type(body)
    headers.update(parse_headers(args.header))
    if not args.no_sign:
        headers.update(sending.signature_headers(trigger, args.dag_id, namespace, body))
    try:
        key = render_key(trigger, args.dag_id, namespace)
    except TemplateRenderError as exc:
        raise CliError(f"the key of trigger {trigger.id!r} does not render ({exc}): {how_to_fix(exc)}") from None
    delivery = sending.build(args.method.upper(), base_url(args.url), namespace, args.dag_id, key, headers, body,
                             parse_params(args.param))
    signed = "unsigned" if args.no_sign or declared is None else f"signed as {declared}"
    say(f"Sending {example.description if args.body is None else 'your body'} ({len(body)} bytes, {signed}) "
        f"-> {delivery.method} {delivery.masked_url} ...")
    try:
        status, _, answer = sending.post(delivery, timeout=args.timeout)
    except sending.SendError as exc:
        raise CliError(str(exc)) from None
    print(f"HTTP {status}")
    text = answer.decode("utf-8", errors="replace")
    if text:
        print(text)
    return 0 if 200 <= status < 300 else 1


_DAG = (("dag_id",), {"metavar": "DAG_ID", "help": "the DAG whose webhook to use"})
_TRIGGER = (("--trigger",), {"metavar": "ID", "help": "the trigger id, when the DAG declares several"})
_NAMESPACE = (("--namespace",), {"metavar": "NS", "help": "only triggers of this namespace"})
_BODY = (("--body",), {"metavar": "TEXT|@FILE|-", "help": "the request body: text, @file or - for stdin"})
_HEADER = (("--header", "-H"), {"action": "append", "metavar": "'NAME: VALUE'",
                                 "help": "a request header (repeatable)"})
_PARAM = (("--param", "-p"), {"action": "append", "metavar": "NAME=VALUE", "help": "a query parameter (repeatable)"})
_METHOD = (("--method", "-X"), {"default": "POST", "choices": ["GET", "POST", "PUT"], "help": "the HTTP method"})
_JSON = (("--json",), {"action": "store_true", "help": "print JSON instead of text"})
_BASE = (("--base-url",), {"metavar": "URL", "help": "Airflow's public URL (default: base_url of section api)"})

# name -> (function, help, arguments): the single source of both CLIs
COMMANDS: dict[str, tuple[Any, str, tuple]] = {
    "list": (cmd_list, "list declared webhooks (keys masked), their problems, and invalid declarations",
             (_JSON, _BASE)),
    "url": (cmd_url, "print a DAG's webhook URL with its key (for people allowed to read the key)",
            (_DAG, _TRIGGER, _NAMESPACE, _BASE)),
    "test": (cmd_test, "dry run: which trigger would answer, each condition and why, the run's conf (no run)",
             (_DAG, _BODY, _HEADER, _PARAM, _METHOD, _TRIGGER, _NAMESPACE,
              (("--key",), {"help": "the key of the URL to test (default: test every trigger)"}), _JSON, _BASE)),
    "send": (cmd_send, "sign a test delivery with the trigger's secret and send it to a running Airflow",
             (_DAG, (("--url",), {"metavar": "URL", "help": "the running Airflow (default: base_url of section api)"}),
              _BODY, (("--preset",), {"help": "send this sender's example payload and event headers (default: the "
                                               "trigger's signature type)", "choices": None}),
              _HEADER, _PARAM, _METHOD, _TRIGGER, _NAMESPACE,
              (("--no-sign",), {"action": "store_true", "help": "send without a signature (expect 401)"}),
              (("--timeout",), {"type": float, "default": 30.0, "help": "seconds to wait for the answer"}))),
}


def _with_choices(kwargs: dict) -> dict:
    if "choices" in kwargs and kwargs["choices"] is None:
        return {**kwargs, "choices": list(SAMPLES)}
    return kwargs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airflow-webhooks", description="Kestra-style webhooks of this Airflow.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (func, help_text, arguments) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        for flags, kwargs in arguments:
            sub.add_argument(*flags, **_with_choices(kwargs))
        sub.set_defaults(func=func)
    return parser


def run(func, args: argparse.Namespace) -> int:
    """Run a subcommand; a CliError is printed as one line saying what to change (exit 2)."""
    try:
        return func(args) or 0
    except (CliError, SendError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args.func, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

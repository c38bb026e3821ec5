"""The CLI's pieces that need no Airflow database: argument parsing, the dry run, samples, the
``airflow webhook-trigger`` command group, and errors printed as one line (exit 2)."""

from __future__ import annotations

import json

import pytest

from airflow_webhook_trigger.cli import commands as cli
from airflow_webhook_trigger.cli import samples
from airflow_webhook_trigger.cli.support import CliError, parse_headers, parse_params, read_body
from airflow_webhook_trigger.declarations import parse_declaration
from airflow_webhook_trigger.cli.dry_run import dry_run
from airflow_webhook_trigger.request import WebhookRequest
from airflow_webhook_trigger.signatures import SignatureSpec, sign, verify_signature

DECLARATION = [
    {"id": "a", "key": "key-a", "conditions": [
        {"type": "ExpressionCondition", "expression": "{{ trigger.body.x == 1 }}"},
        {"type": "ExpressionCondition", "expression": "{{ trigger.body.missing.deeper }}"},
    ]},
    {"id": "b", "key": "key-b", "inputs": {"x": "{{ trigger.body.x }}"}},
    {"id": "c", "key": "key-c", "disabled": True},
]


def _request(body: dict) -> WebhookRequest:
    return WebhookRequest("POST", headers=(("Content-Type", "application/json"),), body=json.dumps(body).encode())


def test_dry_run_reports_every_condition_and_the_conf():
    pairs = [("ns", t) for t in parse_declaration(DECLARATION)]
    a, b, c = dry_run(pairs, _request({"x": 1}), "d")
    assert a.status == 204 and [ok for _, ok, _ in a.conditions] == [True, False]
    assert a.conditions[1][2].startswith("error: undefined")  # why, not only that it failed
    assert b.status == 200 and b.conf["x"] == 1 and b.inputs == {"x": 1} and b.run_id.startswith("webhook__")
    assert c.status == 409 and c.state == "disabled"


def test_dry_run_with_a_key_answers_like_the_api_server():
    pairs = [("ns", t) for t in parse_declaration(DECLARATION)]
    reports = dry_run(pairs, _request({"x": 2}), "d", key="key-b")
    assert [r.key for r in reports] == ["does not match", "matches", "not checked"]
    assert reports[1].status == 200 and reports[2].status == 0
    assert dry_run(pairs[:1], _request({}), "d", paused=True)[0].status == 409


@pytest.mark.parametrize("bad", ["no colon", ": empty name"])
def test_header_mistakes_say_how_to_write_them(bad):
    with pytest.raises(CliError, match="Name: value"):
        parse_headers([bad])


def test_parsing_headers_params_and_bodies(tmp_path):
    assert parse_headers(["X-GitHub-Event: push", "A:b:c"]) == [("X-GitHub-Event", "push"), ("A", "b:c")]
    assert parse_params(["env=prod", "e="]) == [("env", "prod"), ("e", "")]
    with pytest.raises(CliError, match="name=value"):
        parse_params(["env"])
    (tmp_path / "p.json").write_bytes(b'{"a": 1}')
    assert read_body(f"@{tmp_path / 'p.json'}") == b'{"a": 1}'
    with pytest.raises(CliError, match="no such file"):
        read_body("@/nonexistent/payload.json")


def test_errors_are_one_line_and_exit_2(capsys):
    def broken(args):
        raise CliError("DAG 'x' declares no webhook")

    assert cli.run(broken, None) == 2
    assert capsys.readouterr().err == "error: DAG 'x' declares no webhook\n"


def test_every_subcommand_in_both_clis():
    parser = cli.build_parser()
    args = parser.parse_args(["send", "d", "--preset", "stripe", "-H", "A: b", "-H", "C: d", "--no-sign"])
    assert (args.func, args.preset, args.header, args.no_sign) == (cli.cmd_send, "stripe", ["A: b", "C: d"], True)
    with pytest.raises(SystemExit):
        parser.parse_args(["send", "d", "--preset", "nope"])

    from airflow_webhook_trigger.cli.airflow_group import get_cli_commands, get_provider_info

    (group,) = get_cli_commands()
    assert group.name == "webhook-trigger" and [c.name for c in group.subcommands] == list(cli.COMMANDS)
    info = get_provider_info()
    assert info["package-name"] == "airflow-webhook-trigger" and info["cli"] == [
        "airflow_webhook_trigger.cli.airflow_group.get_cli_commands"]


@pytest.mark.parametrize("name", list(samples.SAMPLES))
def test_samples_sign_and_verify_with_every_preset(name):
    example = samples.sample(name)
    assert example.body and example.content_type
    if example.content_type == "application/json":
        json.loads(example.body)
    spec = SignatureSpec("github", "{{ secret('S') }}")
    headers = {k: [v] for k, v in sign(spec, "s3cret", example.body).items()}
    assert verify_signature(spec, "s3cret", example.body, headers)


def test_samples_are_fresh_deliveries():
    assert json.loads(samples.stripe_event().body)["id"] != json.loads(samples.stripe_event().body)["id"]


def test_dry_run_reports_a_refused_body_as_the_endpoint_answers_it():
    from airflow_webhook_trigger.declarations import parse_declaration
    from airflow_webhook_trigger.cli.dry_run import dry_run
    from airflow_webhook_trigger.request import WebhookRequest

    (trigger,) = parse_declaration({"key": "k"})
    broken = WebhookRequest(method="POST", headers=(("Content-Type", "multipart/form-data"),), body=b"--x\r\nno")
    (report,) = dry_run([("ns", trigger)], broken, "d")
    assert report.status == 400
    assert "body is refused" in report.verdict


def test_list_problems_name_each_rotated_secret_that_fails(monkeypatch):
    from airflow_webhook_trigger.cli.dry_run import trigger_problems  # only this test needs it

    monkeypatch.setenv("AIRFLOW_VAR_ROT_OK", "s3cret")
    good, bad = "{{ secret('ROT_OK') }}", "{{ secret('ROT_OK') ~ nope.deeper }}"
    (trigger,) = parse_declaration({"key": "k", "signature": {"type": "github", "secret": [good, bad]}})
    (problem,) = trigger_problems(trigger, "d", "ns")
    assert problem.startswith("signature secret 2 of 2 does not render")
    assert "every request it signs gets 401" in problem
    (single,) = parse_declaration({"key": "k", "signature": {"type": "github", "secret": bad}})
    assert trigger_problems(single, "d", "ns")[0].startswith("signature secret does not render")

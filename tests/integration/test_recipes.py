"""Every recipe of docs/recipes.md, driven the way its sender drives it.

Each test sends the sender's documented payload shape (``airflow_webhook_trigger.cli.samples``),
signed with a real signature (``signatures.sign``, the scheme the sender uses), to the recipe's
example DAG on the shared api-server, then checks the answer and the conf of the run it made.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl

import httpx
import pytest

from airflow_webhook_trigger.cli import samples
from airflow_webhook_trigger.signatures import SignatureSpec, sign

pytestmark = pytest.mark.integration

SECRETS = {
    "RECIPE_GITHUB_SECRET": "recipe-github-secret",
    "RECIPE_GITLAB_TOKEN": "recipe-gitlab-token",
    "RECIPE_STRIPE_SECRET": "whsec_recipe_stripe_secret",
    "RECIPE_SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
}


@pytest.fixture(scope="module")
def recipes(stack):
    for name, value in SECRETS.items():
        status, body = stack.api("POST", "/api/v2/variables", {"key": name, "value": value})
        if status == 409:
            status, body = stack.api("PATCH", f"/api/v2/variables/{name}", {"key": name, "value": value})
        assert status in (200, 201), body
    return stack


def _signed(kind: str, secret_name: str, example: samples.Sample, **sign_kwargs) -> dict[str, str]:
    spec = SignatureSpec(kind, "{{ secret('%s') }}" % secret_name)
    return {"Content-Type": example.content_type, **example.headers,
            **sign(spec, SECRETS[secret_name], example.body, **sign_kwargs)}


def _post(hook, dag_id: str, key: str, example: samples.Sample, headers: dict[str, str], namespace: str = "recipes"):
    return hook("POST", namespace, dag_id, key, content=example.body, headers=headers)


def _conf(stack, dag_id: str, response) -> dict:
    assert response.status_code == 200, response.text
    run = stack.get_run(dag_id, response.json()["dag_run_id"])
    assert run is not None and run["run_type"] == "manual"
    return run["conf"]


def test_github_push_to_main_and_pull_requests_run_other_events_do_not(recipes, hook):
    push = samples.github_push()
    conf = _conf(recipes, "recipe_github", _post(hook, "recipe_github", "gh-8Jq2vR4wXz", push,
                                                 _signed("github", "RECIPE_GITHUB_SECRET", push)))
    body = json.loads(push.body)
    assert conf["event"] == "push" and conf["sha"] == body["after"] and conf["pull_request"] is None
    assert conf["repository"] == "octocat/Hello-World" and conf["headers"]["x-github-event"] == ["push"]
    assert conf["body"]["head_commit"]["modified"] == ["README.md"]

    pull = samples.github_pull_request("opened")
    conf = _conf(recipes, "recipe_github", _post(hook, "recipe_github", "gh-8Jq2vR4wXz", pull,
                                                 _signed("github", "RECIPE_GITHUB_SECRET", pull)))
    assert conf["event"] == "pull_request" and conf["pull_request"] == 1347
    assert conf["sha"] == json.loads(pull.body)["pull_request"]["head"]["sha"]

    for skipped in (samples.github_push("refs/heads/feature"), samples.github_pull_request("closed"),
                    samples.github_pull_request("opened", base="develop")):
        headers = _signed("github", "RECIPE_GITHUB_SECRET", skipped)
        answer = _post(hook, "recipe_github", "gh-8Jq2vR4wXz", skipped, headers)
        assert answer.status_code == 204, answer.text

    forged = _signed("github", "RECIPE_GITHUB_SECRET", push)
    forged["x-hub-signature-256"] = "sha256=" + "0" * 64
    assert _post(hook, "recipe_github", "gh-8Jq2vR4wXz", push, forged).status_code == 401


def test_github_redelivery_is_the_same_run(recipes, hook):
    push = samples.github_push()
    headers = _signed("github", "RECIPE_GITHUB_SECRET", push, delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    first = _post(hook, "recipe_github", "gh-8Jq2vR4wXz", push, headers)
    again = _post(hook, "recipe_github", "gh-8Jq2vR4wXz", push, headers)
    assert first.status_code == again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["dag_run_id"] == first.json()["dag_run_id"]


def test_gitlab_push_to_the_default_branch(recipes, hook):
    push = samples.gitlab_push()
    conf = _conf(recipes, "recipe_gitlab", _post(hook, "recipe_gitlab", "gl-Q7m3Kp9sLd", push,
                                                 _signed("gitlab", "RECIPE_GITLAB_TOKEN", push)))
    assert conf["project"] == "mike/diaspora" and conf["pushed_by"] == "jsmith"
    assert conf["commit"] == json.loads(push.body)["checkout_sha"]
    assert conf["headers"]["x-gitlab-event"] == ["Push Hook"]

    branch = samples.gitlab_push("refs/heads/feature")
    assert _post(hook, "recipe_gitlab", "gl-Q7m3Kp9sLd", branch,
                 _signed("gitlab", "RECIPE_GITLAB_TOKEN", branch)).status_code == 204
    wrong = {**_signed("gitlab", "RECIPE_GITLAB_TOKEN", push), "x-gitlab-token": "not-the-token"}
    assert _post(hook, "recipe_gitlab", "gl-Q7m3Kp9sLd", push, wrong).status_code == 401


def test_stripe_payment_succeeded_once_per_event(recipes, hook):
    paid = samples.stripe_event("payment_intent.succeeded")
    headers = _signed("stripe", "RECIPE_STRIPE_SECRET", paid)
    first = _post(hook, "recipe_stripe", "st-4Hn8Wc2Tb", paid, headers)
    conf = _conf(recipes, "recipe_stripe", first)
    assert (conf["order_id"], conf["amount"], conf["currency"]) == ("1042", 2000, "usd")
    assert first.json()["dag_run_id"].endswith(json.loads(paid.body)["id"])
    retried = _post(hook, "recipe_stripe", "st-4Hn8Wc2Tb", paid, _signed("stripe", "RECIPE_STRIPE_SECRET", paid))
    assert retried.status_code == 200 and retried.json()["duplicate"] is True

    created = samples.stripe_event("payment_intent.created")
    assert _post(hook, "recipe_stripe", "st-4Hn8Wc2Tb", created,
                 _signed("stripe", "RECIPE_STRIPE_SECRET", created)).status_code == 204
    stale = _signed("stripe", "RECIPE_STRIPE_SECRET", paid, now=time.time() - 3600)
    assert _post(hook, "recipe_stripe", "st-4Hn8Wc2Tb", paid, stale).status_code == 401


def test_slack_url_verification_is_answered_with_the_challenge_at_once(recipes, hook):
    runs_before = len(recipes.list_runs("recipe_slack"))
    handshake = samples.slack_url_verification()
    started = time.monotonic()
    answer = _post(hook, "recipe_slack", "sl-evt-3Rw9Qn", handshake,
                   _signed("slack", "RECIPE_SLACK_SIGNING_SECRET", handshake))
    elapsed = time.monotonic() - started
    assert answer.status_code == 200 and answer.text == json.loads(handshake.body)["challenge"]
    assert answer.headers["content-type"].startswith("text/plain")
    assert elapsed < 3, f"Slack gives up after 3 s; answered in {elapsed:.2f} s"
    assert len(recipes.list_runs("recipe_slack")) == runs_before  # a handshake creates no run

    unsigned = _post(hook, "recipe_slack", "sl-evt-3Rw9Qn", handshake, {"Content-Type": "application/json"})
    assert unsigned.status_code == 401  # only Slack gets the echo


def test_slack_events_and_slash_commands_start_runs(recipes, hook):
    mention = samples.slack_app_mention("<@U0LAN0Z89> deploy please")
    conf = _conf(recipes, "recipe_slack", _post(hook, "recipe_slack", "sl-evt-3Rw9Qn", mention,
                                                _signed("slack", "RECIPE_SLACK_SIGNING_SECRET", mention)))
    assert conf["text"] == "<@U0LAN0Z89> deploy please" and conf["user"] == "U123ABC456"

    command = samples.slack_command("deploy api")
    started = time.monotonic()
    headers = _signed("slack", "RECIPE_SLACK_SIGNING_SECRET", command)
    answer = _post(hook, "recipe_slack", "sl-cmd-6Vt2Lp", command, headers)
    assert time.monotonic() - started < 3
    conf = _conf(recipes, "recipe_slack", answer)
    form = dict(parse_qsl(command.body.decode()))
    assert (conf["text"], conf["user"], conf["response_url"]) == ("deploy api", "Steve", form["response_url"])
    assert conf["formFields"]["command"] == ["/airflow"]


def test_curl_with_query_parameters(recipes, hook, http):
    url = "/api/v1/executions/webhook/recipes/recipe_curl/cu-2Xb7Nm5Q"
    answer = http.post(f"{url}?env=prod", json={"table": "orders", "rows": 1200})
    conf = _conf(recipes, "recipe_curl", answer)
    assert (conf["env"], conf["table"], conf["parameters"]) == ("prod", "orders", {"env": ["prod"]})
    assert conf["body"] == {"table": "orders", "rows": 1200}
    assert http.post(f"{url}?env=dev", json={"table": "orders"}).status_code == 204
    missing = http.post(f"{url}?env=prod", json={"rows": 1})
    assert missing.status_code == 422 and "table" in missing.json()["message"]


def test_kestra_flow_pasted_whole(recipes, hook):
    order = {"status": "paid", "order_id": "A-17", "amount": 12, "currency": "EUR"}
    paid = hook("POST", "company.team", "recipe_from_kestra", "4wjtkzwVGBM9yKnjm3yv8r", json=order)
    conf = _conf(recipes, "recipe_from_kestra", paid)
    assert conf["order_id"] == "A-17" and conf["body"] == order
    answer = paid.json()
    assert answer["namespace"] == "company.team" and answer["flowId"] == "recipe_from_kestra"
    assert answer["trigger"]["type"] == "io.kestra.plugin.core.trigger.Webhook"
    assert answer["labels"] == [{"key": "source", "value": "shop"}, {"key": "currency", "value": "EUR"}]
    assert hook("POST", "company.team", "recipe_from_kestra", "4wjtkzwVGBM9yKnjm3yv8r",
                json={**order, "status": "pending"}).status_code == 204
    assert hook("POST", "company.team", "recipe_from_kestra", "4wjtkzwVGBM9yKnjm3yv8r",
                json={**order, "amount": 0}).status_code == 204  # `when` is false
    tenant = recipes.url + "/api/v1/main/executions/webhook/company.team/recipe_from_kestra/4wjtkzwVGBM9yKnjm3yv8r"
    assert httpx.post(tenant, json=order, timeout=60).status_code == 200

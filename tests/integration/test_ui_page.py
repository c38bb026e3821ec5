"""The Webhooks page (Browse -> Webhooks), served by the plugin on a real api-server.

The shared ``stack`` runs SimpleAuthManager with everyone admin, so these tests are about what the
page shows: every declared webhook with its masked URL, conditions, signature and state, the
invalid declarations, the recent deliveries read back from Airflow's audit log (sent as real
webhooks here), and "Reveal", which renders the key server-side and is itself audited. Who sees
what is tested with real users in ``test_ui_access.py``; the page in a browser in
``test_ui_browser.py``.
"""

from __future__ import annotations

import html
import json
import re
import time

import httpx
import pytest

from airflow_webhook_trigger.signatures import SignatureSpec, sign
from tools.stack import AIRFLOW_VERSION

# the page is in the UI's menu through external_views, which Airflow 3.1 added
pytestmark = [pytest.mark.integration, pytest.mark.requires_airflow(3, 1)]

PAGE = "/webhook-trigger-ui"
DAG = "ui_webhooks"
KEY = "t6ui-revealed-KEY-value"
GH_SECRET = "t6ui-gh-secret"
ROW = re.compile(r"<tr data-webhook='([^']*)'>(.*?)</tr>", re.DOTALL)
BADGE = re.compile(r'class="badge [a-z]+"[^>]*>([^<]+)<')


def rows(page: str, table: str) -> list[tuple[list, str]]:
    """``(["namespace", "dag_id", "trigger_id"], row html)`` for each row of one table."""
    start = page.find(f'<table id="{table}"')
    if start < 0:
        return []
    body = page[start : page.index("</table>", start)]
    return [(json.loads(html.unescape(key)), row) for key, row in ROW.findall(body)]


def row_of(page: str, table: str, trigger: str, dag_id: str = DAG) -> str:
    found = [row for key, row in rows(page, table) if key == ["t6ui", dag_id, trigger]]
    assert len(found) == 1, f"{trigger}: {len(found)} rows"
    return found[0]


@pytest.fixture(scope="module")
def http(stack):
    """The page's client, logged in as the UI's own requests are. Airflow 3.1's SimpleAuthManager
    has no all-admins middleware (3.0 and 3.2+ mint a token per request): a browser gets the token
    at the login redirect, this client sends it as a bearer token."""
    headers = {"Authorization": f"Bearer {stack.token()}"} if AIRFLOW_VERSION[:2] == (3, 1) else {}
    with httpx.Client(base_url=stack.url, timeout=60, headers=headers) as client:
        yield client


@pytest.fixture(scope="module")
def secrets(stack):
    for name, value in (("UI_KEY", KEY), ("UI_GH_SECRET", GH_SECRET)):
        status, body = stack.api("POST", "/api/v2/variables", {"key": name, "value": value})
        assert status in (201, 409), body
        if status == 409:
            assert stack.api("PATCH", f"/api/v2/variables/{name}", {"key": name, "value": value})[0] == 200
    return {"key": KEY}


def github_push(hook, key: str, ref: str):
    body = json.dumps({"ref": ref, "repository": {"full_name": "octo/t6ui"}}).encode()
    headers = sign(SignatureSpec("github", "unused"), GH_SECRET, body)
    headers.update({"content-type": "application/json", "x-github-event": "push"})
    return hook("POST", "t6ui", DAG, key, content=body, headers=headers)


def test_the_page_is_registered_in_the_airflow_ui(stack, http):
    status, body = stack.api("GET", "/api/v2/plugins")
    assert status == 200, body
    plugin = next(p for p in body["plugins"] if p["name"] == "webhook_trigger")
    views = {v["url_route"]: v for v in plugin["external_views"]}
    assert views["webhooks"]["destination"] == "nav" and views["webhooks"]["category"] == "browse"
    assert views["webhooks-dag"]["destination"] == "dag" and "{DAG_ID}" in views["webhooks-dag"]["href"]
    assert any(app["url_prefix"] == PAGE for app in plugin["fastapi_apps"])
    icon = http.get(f"{PAGE}/icon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_lists_every_webhook_with_its_declaration_and_no_key(http, secrets):
    response = http.get(f"{PAGE}/")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    for secret in (KEY, GH_SECRET, "t6ui-plain-key", "t6ui-limited-key", "t6ui-off-key"):
        assert secret not in page
    listed = {tuple(key) for key, _ in rows(page, "webhooks")}
    assert {("t6ui", DAG, t) for t in ("github", "plain", "limited", "off", "unset")} <= listed
    assert ("demo", "webhook_mapping", "webhook") in listed  # example DAGs are there too

    github = row_of(page, "webhooks", "github")
    assert f"/api/v1/executions/webhook/t6ui/{DAG}/***" in github
    assert f'href="/dags/{DAG}"' in github
    assert "GitHub pushes to main" in github
    assert "trigger.headers[&#39;x-github-event&#39;][0] == &#39;push&#39;" in github
    assert "trigger.body.ref == &#39;refs/heads/main&#39;" in github
    assert '<span class="badge info">github</span>' in github
    assert ">active<" in github and 'class="reveal"' in github and 'class="copy"' in github
    assert ">disabled<" in row_of(page, "webhooks", "off")
    assert "at most 1 per 1 hour" in row_of(page, "webhooks", "limited")
    assert "none: every request starts a run" in row_of(page, "webhooks", "limited")


def test_lists_invalid_declarations_with_file_and_reason(http):
    page = http.get(f"{PAGE}/").text
    invalid = page[page.index('<table id="invalid"') :]
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", invalid, re.DOTALL) if "ui_invalid" in r)
    assert "ui_invalid.py" in row
    assert "webhook.condition: unknown property" in row


def test_reveal_renders_the_key_and_the_revealed_url_works(stack, http, hook, secrets):
    response = http.get(f"{PAGE}/api/url/t6ui/{DAG}/github")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    url = response.json()["url"]
    assert url == f"{stack.url}/api/v1/executions/webhook/t6ui/{DAG}/{KEY}"

    sent = github_push(hook, url.rsplit("/", 1)[1], "refs/heads/main")
    assert sent.status_code == 200, sent.text
    assert stack.get_run(DAG, sent.json()["dag_run_id"]) is not None

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the audit entry for the reveal: who saw which key
        status, body = stack.api("GET", f"/api/v2/eventLogs?event=webhook.url_revealed&dag_id={DAG}")
        assert status == 200, body
        if body["event_logs"]:
            break
        time.sleep(0.5)
    entry = body["event_logs"][0]
    assert json.loads(entry["extra"]) == {"namespace": "t6ui", "trigger": "github"}
    assert KEY not in json.dumps(body)


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        (f"t6ui/{DAG}/unset", 422, ["UI_NEVER_SET", "is not set"]),
        (f"t6ui/{DAG}/nope", 404, ["no webhook 'nope'"]),
        ("t6ui/no_such_dag/github", 404, ["no webhook"]),
        (f"elsewhere/{DAG}/github", 404, ["no webhook"]),
    ],
)
def test_reveal_says_why_it_cannot(http, secrets, path, status, words):
    response = http.get(f"{PAGE}/api/url/{path}")
    assert response.status_code == status, response.text
    message = response.json()["message"]
    for word in words:
        assert word in message


def test_recent_deliveries_show_each_outcome_and_link_the_run(stack, http, hook, secrets):
    created = github_push(hook, KEY, "refs/heads/main")
    assert created.status_code == 200, created.text
    run_id = created.json()["dag_run_id"]
    assert github_push(hook, KEY, "refs/heads/dev").status_code == 204
    assert github_push(hook, "wrong-t6ui-key", "refs/heads/main").status_code == 404
    assert hook("POST", "t6ui", DAG, KEY, json={"ref": "refs/heads/main"},
                headers={"x-github-event": "push", "x-hub-signature-256": "sha256=00"}).status_code == 401
    assert hook("POST", "t6ui", DAG, "t6ui-off-key").status_code == 409
    limited = [hook("POST", "t6ui", DAG, "t6ui-limited-key").status_code for _ in range(3)]
    assert 429 in limited  # one an hour per api-server worker: with up to 2 workers, 3 tries meet one twice

    wanted = {"200 triggered", "204", "404", "401", "409", "429"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # audit entries are written in batches, ~0.5 s later
        page = http.get(f"{PAGE}/").text
        deliveries = rows(page, "deliveries-table")
        seen = {BADGE.search(r).group(1).strip() for k, r in deliveries if k[1] == DAG}
        if wanted <= seen and run_id in page:
            break
        time.sleep(0.5)
    assert wanted <= seen, seen
    for secret in (KEY, GH_SECRET, "t6ui-off-key", "t6ui-limited-key", "wrong-t6ui-key"):
        assert secret not in page

    ours = [(k, r) for k, r in deliveries if k[1] == DAG]
    triggered = next(r for k, r in ours if run_id in r)
    assert f'href="/dags/{DAG}/runs/{run_id.replace(":", "%3A").replace("+", "%2B")}"' in triggered
    assert "run created" in triggered and " ms<" in triggered
    reasons = " ".join(r for _, r in ours)
    for reason in ("conditions not met", "wrong key: 1 request", "signature check failed",
                   "trigger disabled", "rate limited"):
        assert reason in reasons
    wrong_key = next(r for k, r in ours if "wrong key" in r)  # the summary row of wrong keys (audit.py)
    assert "<td>—</td>" in wrong_key  # a 404 on a known DAG has no trigger

    github = row_of(page, "webhooks", "github")
    assert "recent</a>" in github  # the last delivery and the filter link


def test_the_dag_tab_shows_one_dag(http, secrets):
    page = http.get(f"{PAGE}/dags/{DAG}").text
    assert {tuple(k)[1] for k, _ in rows(page, "webhooks")} == {DAG}
    assert all(k[1] == DAG for k, _ in rows(page, "deliveries-table"))
    other = http.get(f"{PAGE}/dags/webhook_bash_nothing_declared").text
    assert "declares no webhook" in other
    invalid = http.get(f"{PAGE}/dags/ui_invalid").text
    assert "webhook.condition: unknown property" in invalid and 'id="webhooks"' not in invalid

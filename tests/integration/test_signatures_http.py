"""Every signature scheme, end to end through the real api-server.

``tests/dags/signatures_presets.py`` declares one trigger per scheme, each secret a ``secret('...')``
template read from an Airflow Variable that this module sets through the REST API. A request
signed the way the provider signs (``signatures.sign``) starts a run; a tampered body, a missing
header, a wrong secret or a stale timestamp is a 401 whose body is the same whatever failed;
the signature is checked before the conditions; a literal secret makes the declaration invalid.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest

from airflow_webhook_trigger.signatures import SignatureSpec, parse_signature, sign
from tools.stack import AIRFLOW_VERSION

pytestmark = pytest.mark.integration

DAG_ID = "signatures_presets"
UNAUTHORIZED = {"message": "Unauthorized: the request's signature is missing, invalid or too old"}
SECRETS = {
    "SIG_GITHUB": "t4 github secret: It's a Secret to Everybody",
    "SIG_GITLAB": "t4-gitlab-token-5bd1e9",
    "SIG_STRIPE": "whsec_t4_stripe_test_secret",
    "SIG_SLACK": "8f742231b10e8888abcd99yyyzzz85a5",
    "SIG_STANDARD": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "SIG_SHOPIFY": "t4-shopify-shared-secret",
    "SIG_HMAC": "t4-generic-hmac-secret",
}
# trigger id -> (how it is declared in the DAG, the Variable holding its secret)
TRIGGERS: dict[str, tuple[dict, str]] = {
    "github": ({"type": "github"}, "SIG_GITHUB"),
    "gitlab": ({"type": "gitlab"}, "SIG_GITLAB"),
    "stripe": ({"type": "stripe", "tolerance": 300}, "SIG_STRIPE"),
    "slack": ({"type": "slack"}, "SIG_SLACK"),
    "standard": ({"type": "standard"}, "SIG_STANDARD"),
    "shopify": ({"type": "shopify"}, "SIG_SHOPIFY"),
    "hmac": ({"type": "hmac", "algorithm": "sha512", "header": "X-Signature", "encoding": "base64",
              "prefix": "sha512="}, "SIG_HMAC"),
    "hmac_timed": ({"type": "hmac", "header": "X-Signature", "timestampHeader": "X-Timestamp", "tolerance": 60},
                   "SIG_HMAC"),
}
TIMED = ("stripe", "slack", "standard", "hmac_timed")
BODY_MACS = [t for t in TRIGGERS if t != "gitlab"]  # GitLab sends the secret itself: no MAC of the body


def set_variable(stack, key: str, value: str) -> None:
    """Through Airflow's REST API. On SQLite the stack's scheduler can hold the write lock past
    the busy timeout on a loaded machine, and Airflow answers that 500 "Database error": tried
    again, as any client of a single-writer database would (seen once in CI)."""
    for attempt in range(4):
        status, body = stack.api("POST", "/api/v2/variables", {"key": key, "value": value})
        if status == 409:  # set by an earlier run of this module against the same stack
            status, body = stack.api("PATCH", f"/api/v2/variables/{key}", {"key": key, "value": value})
        if status != 500 or "Database error" not in str(body):
            break
        time.sleep(1 + attempt)
    assert status in (200, 201), body


@pytest.fixture(scope="module")
def secrets(stack):
    for key, value in SECRETS.items():
        set_variable(stack, key, value)
    return SECRETS


def spec_of(trigger: str) -> tuple[SignatureSpec, str]:
    declared, variable = TRIGGERS[trigger]
    return parse_signature({**declared, "secret": f"{{{{ secret('{variable}') }}}}"}), SECRETS[variable]


def body_of(trigger: str) -> tuple[bytes, str]:
    """A fresh body the way the provider sends it, and its content type."""
    marker = uuid.uuid4().hex
    if trigger == "slack":
        return f"token=t4&team_id=T1&command=%2Ft4&text={marker}".encode(), "application/x-www-form-urlencoded"
    payload = {"id": f"evt_{marker}", "object": "event", "marker": marker, "text": "héllo ✓"}
    return json.dumps(payload, ensure_ascii=False).encode(), "application/json"


def post(hook, trigger: str, body: bytes, content_type: str, headers: dict[str, str]):
    return hook("POST", "default", DAG_ID, f"t4-sig-{trigger.replace('_', '-')}",
                content=body, headers={"Content-Type": content_type, **headers})


@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_signed_request_starts_a_run(stack, hook, secrets, trigger):
    spec, secret = spec_of(trigger)
    body, content_type = body_of(trigger)
    response = post(hook, trigger, body, content_type, sign(spec, secret, body))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["trigger"]["id"] == trigger and answer["duplicate"] is False
    run = stack.get_run(DAG_ID, answer["id"])
    assert run is not None, f"the 200 names run {answer['id']} but the REST API does not know it"
    conf_body = run["conf"]["body"]
    if content_type == "application/json":
        assert conf_body == json.loads(body)
    else:
        assert conf_body == body.decode()


@pytest.mark.parametrize("trigger", BODY_MACS)
def test_tampered_body_is_401(hook, secrets, trigger):
    spec, secret = spec_of(trigger)
    body, content_type = body_of(trigger)
    headers = sign(spec, secret, body)
    tampered = body.replace(b"t4", b"T4", 1) if trigger == "slack" else body.replace(b'"event"', b'"evil!"')
    assert tampered != body
    response = post(hook, trigger, tampered, content_type, headers)
    assert response.status_code == 401, response.text
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_wrong_secret_is_401(hook, secrets, trigger):
    spec, _secret = spec_of(trigger)
    body, content_type = body_of(trigger)
    wrong = "whsec_dGhpcyBpcyBub3QgdGhlIGtleQ==" if trigger == "standard" else "not-the-secret"
    response = post(hook, trigger, body, content_type, sign(spec, wrong, body))
    assert response.status_code == 401, response.text
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_missing_signature_header_is_401(hook, secrets, trigger):
    spec, secret = spec_of(trigger)
    body, content_type = body_of(trigger)
    signature_headers = {"x-hub-signature-256", "x-hub-signature", "x-gitlab-token", "stripe-signature",
                         "x-slack-signature", "webhook-signature", "x-shopify-hmac-sha256", "x-signature"}
    headers = {k: v for k, v in sign(spec, secret, body).items() if k not in signature_headers}
    response = post(hook, trigger, body, content_type, headers)
    assert response.status_code == 401, response.text
    assert response.json() == UNAUTHORIZED
    assert post(hook, trigger, body, content_type, {}).json() == UNAUTHORIZED  # no header at all


@pytest.mark.parametrize("trigger", TIMED)
def test_stale_timestamp_is_401(hook, secrets, trigger):
    spec, secret = spec_of(trigger)
    body, content_type = body_of(trigger)
    for offset in (-3600, 3600):  # replayed from an hour ago, or dated an hour ahead
        headers = sign(spec, secret, body, now=time.time() + offset)
        response = post(hook, trigger, body, content_type, headers)
        assert response.status_code == 401, (offset, response.text)
        assert response.json() == UNAUTHORIZED
    # the same request signed now is accepted: the timestamp alone made the difference
    assert post(hook, trigger, body, content_type, sign(spec, secret, body)).status_code == 200


def test_every_401_is_the_same_bytes_and_names_no_part(hook, secrets):
    """Whatever failed (header, MAC, secret, time), the sender learns nothing more than "401"."""
    answers = set()
    for trigger in TRIGGERS:
        spec, secret = spec_of(trigger)
        body, content_type = body_of(trigger)
        attempts = [{}, sign(spec, "wrong", body), {k: v + "0" for k, v in sign(spec, secret, body).items()}]
        if trigger in TIMED:
            attempts.append(sign(spec, secret, body, now=time.time() - 7200))
        for headers in attempts:
            response = post(hook, trigger, body, content_type, headers)
            assert response.status_code == 401, (trigger, headers, response.text)
            answers.add((response.content, response.headers.get("content-type")))
    assert len(answers) == 1, answers
    content = next(iter(answers))[0].decode()
    for secret in SECRETS.values():
        assert secret not in content


@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_signature_is_checked_before_conditions(hook, secrets, trigger):
    """``X-T4-Skip`` makes the trigger's condition false: signed -> 204, badly signed -> 401."""
    spec, secret = spec_of(trigger)
    body, content_type = body_of(trigger)
    good = {**sign(spec, secret, body), "X-T4-Skip": "1"}
    response = post(hook, trigger, body, content_type, good)
    assert response.status_code == 204, response.text
    bad = {**sign(spec, "wrong", body), "X-T4-Skip": "1"}
    response = post(hook, trigger, body, content_type, bad)
    assert response.status_code == 401, response.text


def test_rotated_secret_applies_without_restart(stack, hook, secrets):
    """The secret is a template read per request (cache 0 s in tests): a new value applies at once."""
    spec, old = spec_of("shopify")
    body, content_type = body_of("shopify")
    set_variable(stack, "SIG_SHOPIFY", "t4-shopify-rotated")
    try:
        assert post(hook, "shopify", body, content_type, sign(spec, old, body)).status_code == 401
        assert post(hook, "shopify", body, content_type, sign(spec, "t4-shopify-rotated", body)).status_code == 200
    finally:
        set_variable(stack, "SIG_SHOPIFY", old)


# --- a literal secret is refused (parse_declaration's side: tests/unit/test_delivery_safety.py) ----


def test_literal_secret_dag_is_listed_as_invalid_and_never_served(stack, hook):
    listing_code = ("import json; from airflow_webhook_trigger.listing import list_webhooks; "
                    "print(json.dumps(list_webhooks()))")
    done = subprocess.run([sys.executable, "-c", listing_code], env=stack.env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    listing = json.loads(done.stdout.strip().splitlines()[-1])
    invalid = {item["dag_id"]: item["reason"] for item in listing["invalid"]}
    assert "signatures_literal_secret" in invalid, listing["invalid"]
    assert "signature.secret" in invalid["signatures_literal_secret"]
    assert "signatures_literal_secret" not in {w["dag_id"] for w in listing["webhooks"]}
    text = done.stdout + done.stderr
    assert "t4-literal-secret-value-0123456789" not in text
    for key in ("t4-sig-github", "t4-sig-hmac", "t4-literal-secret"):
        assert key not in text, f"key {key} shows in the listing"
    response = hook("POST", "default", "signatures_literal_secret", "t4-literal-secret", json={})
    assert response.status_code == 404


# --- keys and secrets stay out of the api-server's log -------------------------------------------


def test_keys_and_secrets_never_reach_the_api_server_log(stack, hook, http, secrets):
    """Airflow's access log writes each request's path, key included, unless the plugin masks it
    (``http/asgi.MaskKeyInAccessLog``): the log shows ``***`` and never a key, a secret or the literal secret."""
    wrong_key = f"t4-wrong-key-{uuid.uuid4().hex}"
    for trigger in TRIGGERS:
        spec, secret = spec_of(trigger)
        body, content_type = body_of(trigger)
        assert post(hook, trigger, body, content_type, sign(spec, secret, body)).status_code == 200
        assert post(hook, trigger, body, content_type, sign(spec, "wrong", body)).status_code == 401
    assert hook("POST", "default", DAG_ID, wrong_key, json={}).status_code == 404
    assert hook("POST", "default", DAG_ID, wrong_key + "/extra", json={}).status_code == 404
    probe = uuid.uuid4().hex  # the last request: once its line is in the log, all earlier ones are
    assert http.get(f"/api/v1/executions/webhook/default/{DAG_ID}/{wrong_key}?t4probe={probe}").status_code == 404
    deadline = time.monotonic() + 30
    while probe not in stack.log("api-server") and time.monotonic() < deadline:
        time.sleep(0.2)
    log = stack.log("api-server")
    assert probe in log, "the access log never showed the probe request"
    masked = f"/api/v1/executions/webhook/default/{DAG_ID}/"
    # 3.2+: Airflow's access log writes the path as is; 3.0/3.1: uvicorn's own access log quotes it
    assert masked + "***" in log or (AIRFLOW_VERSION < (3, 2) and masked + "%2A%2A%2A" in log)
    leaked = [key for key in [f"t4-sig-{t.replace('_', '-')}" for t in TRIGGERS] + [wrong_key] if key in log]
    assert not leaked, f"keys in the api-server log: {leaked}"
    leaked = [name for name, value in SECRETS.items() if value in log]
    assert not leaked, f"secrets in the api-server log: {leaked}"
    assert "t4-literal-secret-value-0123456789" not in log

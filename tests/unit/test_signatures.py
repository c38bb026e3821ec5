"""Tests for airflow_webhook_trigger.signatures: public vectors, tampering, replay windows,
key rotation, junk input (never raises), sign/verify round trips and declaration parsing."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_webhook_trigger.signatures import (
    PRESETS,
    SignatureError,
    SignatureSpec,
    parse_signature,
    preset_delivery_id,
    sign,
    verify_signature,
)

TEMPLATE = "{{ secret('WEBHOOK_SECRET') }}"
MARKER = "S3CR3T_MARKER_do_not_leak"  # only ever inside a secret; must never reach a message
Headers = dict[str, list[str]]


def h(**pairs: str) -> Headers:
    """Headers as the receiver passes them: lower-cased names (``_`` → ``-``) to value lists."""
    return {name.replace("_", "-").lower(): [value] for name, value in pairs.items()}


def as_headers(sent: dict[str, str]) -> Headers:
    return {name.lower(): [value] for name, value in sent.items()}


def preset(kind: str, **extra: Any) -> SignatureSpec:
    return parse_signature({"type": kind, "secret": TEMPLATE, **extra})


def hmac_spec(**extra: Any) -> SignatureSpec:
    return parse_signature({"type": "hmac", "secret": TEMPLATE, "header": "X-Sig", **extra})


GITHUB, GITLAB, STRIPE = preset("github"), preset("gitlab"), preset("stripe")
SLACK, STANDARD, SHOPIFY = preset("slack"), preset("standard"), preset("shopify")

# --------------------------------------------------------------- public vectors (SIGNATURES.md)

GITHUB_VECTORS = [
    ("It's a Secret to Everybody", b"Hello, World!",
     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
    ("secret", b"data",
     "sha256=1b2c16b75bd2a870c114153ccda5bcfca63314bc722fa160d690de133ccbb9db"),
]

STRIPE_SECRET, STRIPE_T = "whsec_test_secret", 1700000000
STRIPE_BODY = b'{"id":"evt_test_webhook","object":"event"}'
STRIPE_V1 = "d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"

SLACK_SECRET, SLACK_TS = "8f742231b10e8888abcd99yyyzzz85a5", 1531420618
SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

STD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STD_ID, STD_TS = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
STD_BODY = b'{"test": 2432232314}'
STD_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def stripe_ok(sig: str = f"t={STRIPE_T},v1={STRIPE_V1}", *, now: float = STRIPE_T,
              body: bytes = STRIPE_BODY, secret: str = STRIPE_SECRET,
              spec: SignatureSpec = STRIPE) -> bool:
    return verify_signature(spec, secret, body, h(stripe_signature=sig), now=now)


def slack_ok(sig: str = SLACK_SIG, ts: str = str(SLACK_TS), *, now: float = SLACK_TS,
             body: bytes = SLACK_BODY, secret: str = SLACK_SECRET) -> bool:
    headers = h(x_slack_signature=sig, x_slack_request_timestamp=ts)
    return verify_signature(SLACK, secret, body, headers, now=now)


def std_headers(sig: str = STD_SIG, prefix: str = "webhook-", ts: str = str(STD_TS)) -> Headers:
    return {f"{prefix}id": [STD_ID], f"{prefix}timestamp": [ts], f"{prefix}signature": [sig]}


def std_ok(headers: Headers | None = None, *, now: float = STD_TS, body: bytes = STD_BODY,
           secret: str = STD_SECRET) -> bool:
    return verify_signature(STANDARD, secret, body, headers or std_headers(), now=now)


@pytest.mark.parametrize(("secret", "body", "signature"), GITHUB_VECTORS)
def test_github_vectors(secret: str, body: bytes, signature: str) -> None:
    headers = h(x_hub_signature_256=signature)
    assert verify_signature(GITHUB, secret, body, headers)
    assert not verify_signature(GITHUB, secret, body + b" ", headers)
    assert not verify_signature(GITHUB, secret + "x", body, headers)
    assert sign(GITHUB, secret, body)["x-hub-signature-256"] == signature


def test_stripe_vector() -> None:
    assert stripe_ok(now=STRIPE_T + 42)
    assert not stripe_ok(now=STRIPE_T + 42, body=STRIPE_BODY + b"\n")
    assert not stripe_ok(now=STRIPE_T + 42, secret="whsec_other")
    sent = sign(STRIPE, STRIPE_SECRET, STRIPE_BODY, now=STRIPE_T)
    assert sent == {"stripe-signature": f"t={STRIPE_T},v1={STRIPE_V1}"}


def test_slack_vector() -> None:
    assert slack_ok(now=SLACK_TS + 5)
    assert not slack_ok(now=SLACK_TS + 5, body=SLACK_BODY.replace(b"foobar", b"foobaz"))
    assert not slack_ok(now=SLACK_TS + 5, secret=SLACK_SECRET[:-1])
    assert sign(SLACK, SLACK_SECRET, SLACK_BODY, now=SLACK_TS) == {
        "x-slack-signature": SLACK_SIG, "x-slack-request-timestamp": str(SLACK_TS)}


@pytest.mark.parametrize("prefix", ["webhook-", "svix-"])
def test_standard_vector(prefix: str) -> None:
    headers = std_headers(prefix=prefix)
    assert std_ok(headers, now=STD_TS + 1)
    assert not std_ok(headers, now=STD_TS + 1, body=b'{"test": 2432232315}')
    assert not std_ok(headers, now=STD_TS + 1, secret="whsec_" + base64.b64encode(b"k" * 24).decode())
    sent = sign(STANDARD, STD_SECRET, STD_BODY, now=STD_TS, delivery_id=STD_ID)
    assert sent == {"webhook-id": STD_ID, "webhook-timestamp": str(STD_TS),
                    "webhook-signature": STD_SIG}


def test_standard_secret_without_whsec_prefix_is_base64_decoded() -> None:
    assert std_ok(secret=STD_SECRET.removeprefix("whsec_"))


def test_standard_secret_that_is_not_base64_uses_raw_bytes() -> None:
    secret = "not base64 at all!"
    sent = sign(STANDARD, secret, b"{}", now=1000, delivery_id="msg_1")
    digest = hmac.new(secret.encode(), b"msg_1.1000.{}", hashlib.sha256).digest()
    assert sent["webhook-signature"] == "v1," + base64.b64encode(digest).decode()
    assert verify_signature(STANDARD, secret, b"{}", as_headers(sent), now=1000)


# ------------------------------------------------------------------ replay windows & rotation

@pytest.mark.parametrize("offset", [-301, 301, -10**6, 10**6])
def test_timestamp_outside_tolerance_is_rejected(offset: int) -> None:
    assert not stripe_ok(now=STRIPE_T + offset)
    assert not slack_ok(now=SLACK_TS + offset)
    assert not std_ok(now=STD_TS + offset)


@pytest.mark.parametrize("offset", [-300, 300])
def test_timestamp_at_tolerance_edge_is_accepted(offset: int) -> None:
    assert stripe_ok(now=STRIPE_T + offset)
    assert slack_ok(now=SLACK_TS + offset)
    assert std_ok(now=STD_TS + offset)


def test_tolerance_override() -> None:
    assert stripe_ok(now=STRIPE_T + 3000, spec=preset("stripe", tolerance=3600))
    assert not stripe_ok(now=STRIPE_T + 11, spec=preset("stripe", tolerance=10))


def test_stripe_key_rotation_second_v1_valid() -> None:
    assert stripe_ok(f"t={STRIPE_T},v1={'0' * 64},v1={STRIPE_V1},v0=deadbeef")
    assert stripe_ok(f" t={STRIPE_T} , v1={'0' * 64} , v1={STRIPE_V1}")


@pytest.mark.parametrize("sig", [f"t={STRIPE_T},v0={STRIPE_V1}", f"t={STRIPE_T}", f"v1={STRIPE_V1}",
                                 f"t=,v1={STRIPE_V1}", f"t={STRIPE_T},v1={STRIPE_V1.upper()}", ""])
def test_stripe_only_v1_with_timestamp_counts(sig: str) -> None:
    assert not stripe_ok(sig)


@pytest.mark.parametrize("prefix", ["webhook-", "svix-"])
def test_standard_key_rotation_second_entry_valid(prefix: str) -> None:
    rotated = f"v1,{base64.b64encode(b'x' * 32).decode()} {STD_SIG}"
    assert std_ok(std_headers(rotated, prefix))


def test_standard_other_versions_do_not_count() -> None:
    sig = STD_SIG.replace("v1,", "v2,") + " " + STD_SIG.replace("v1,", "v1a,")
    assert not std_ok(std_headers(sig))


def test_standard_requires_message_id() -> None:
    headers = std_headers()
    del headers["webhook-id"]
    assert not std_ok(headers)
    # Even a signature made over an empty id is refused: the id is the idempotency key.
    key = base64.b64decode(STD_SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f".{STD_TS}.".encode() + STD_BODY, hashlib.sha256).digest()
    forged = {"webhook-id": [""], "webhook-timestamp": [str(STD_TS)],
              "webhook-signature": ["v1," + base64.b64encode(digest).decode()]}
    assert not std_ok(forged)
    assert not std_ok({k: v for k, v in forged.items() if k != "webhook-id"})


# --------------------------------------------------------------------------- other presets

def test_github_legacy_sha1_only_when_sha256_absent() -> None:
    sha1 = "sha1=" + hmac.new(b"secret", b"data", hashlib.sha1).hexdigest()
    assert verify_signature(GITHUB, "secret", b"data", h(x_hub_signature=sha1))
    # No downgrade: a present-but-wrong SHA-256 header is not rescued by a valid SHA-1 one.
    both = h(x_hub_signature=sha1, x_hub_signature_256="sha256=00")
    assert not verify_signature(GITHUB, "secret", b"data", both)


def test_gitlab_token() -> None:
    assert verify_signature(GITLAB, "tok-123", b"{}", h(x_gitlab_token="tok-123"))
    assert not verify_signature(GITLAB, "tok-123", b"{}", h(x_gitlab_token="tok-124"))
    assert not verify_signature(GITLAB, "tok-123", b"{}", h(x_gitlab_token="tok-12"))


def test_empty_secret_never_verifies() -> None:
    assert not verify_signature(GITLAB, "", b"{}", h(x_gitlab_token=""))
    empty_mac = "sha256=" + hmac.new(b"", b"", "sha256").hexdigest()
    assert not verify_signature(GITHUB, "", b"", h(x_hub_signature_256=empty_mac))


def test_shopify_independent_computation() -> None:
    body = b'{"id": 820982911946154508}'
    digest = base64.b64encode(hmac.new(b"shpss_k", body, hashlib.sha256).digest()).decode()
    assert verify_signature(SHOPIFY, "shpss_k", body, h(x_shopify_hmac_sha256=digest))
    assert not verify_signature(SHOPIFY, "shpss_k", body + b" ", h(x_shopify_hmac_sha256=digest))


def test_hmac_independent_computation_sha512_base64_prefix_timestamp() -> None:
    spec = hmac_spec(algorithm="sha512", encoding="base64", prefix="sha512=", timestampHeader="X-Ts")
    digest = base64.b64encode(hmac.new(b"k", b"1000.payload", hashlib.sha512).digest()).decode()
    assert verify_signature(spec, "k", b"payload", h(x_sig="sha512=" + digest, x_ts="1000"), now=1000)
    assert not verify_signature(spec, "k", b"payload", h(x_sig=digest, x_ts="1000"), now=1000)
    assert not verify_signature(spec, "k", b"payload", h(x_sig="sha512=" + digest, x_ts="1000"),
                                now=1301)


def test_hmac_hex_accepts_upper_case_digits_but_not_a_different_prefix() -> None:
    spec = hmac_spec(prefix="sha256=")
    digest = hmac.new(b"k", b"b", hashlib.sha256).hexdigest().upper()
    assert verify_signature(spec, "k", b"b", h(x_sig="sha256=" + digest))
    assert not verify_signature(spec, "k", b"b", h(x_sig="SHA256=" + digest))


# ----------------------------------------------------------------------- missing & junk input

ALL_SPECS = [preset(kind) for kind in PRESETS] + [
    hmac_spec(encoding=enc, prefix="sha256=", timestampHeader="x-ts") for enc in ("hex", "base64")
]
SPEC_IDS = [f"{s.type}-{s.encoding}" for s in ALL_SPECS]
HEADER_NAMES = [
    "x-hub-signature-256", "x-hub-signature", "x-gitlab-token", "stripe-signature",
    "x-slack-signature", "x-slack-request-timestamp", "webhook-id", "webhook-timestamp",
    "webhook-signature", "svix-id", "svix-timestamp", "svix-signature", "x-shopify-hmac-sha256",
    "x-sig", "x-ts",
]
DELIVERY_ONLY = {"x-github-delivery", "x-gitlab-event-uuid", "x-shopify-webhook-id"}


@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
def test_missing_headers_rejected(spec: SignatureSpec) -> None:
    assert not verify_signature(spec, "secret", b"{}", {}, now=1000)
    assert not verify_signature(spec, "secret", b"{}", h(unrelated="x"), now=1000)
    sent = as_headers(sign(spec, "secret", b"{}", now=1000, delivery_id="d-1"))
    assert verify_signature(spec, "secret", b"{}", sent, now=1000)
    for name in set(sent) - DELIVERY_ONLY:  # GitHub sends two signatures: drop both together
        drop = {"x-hub-signature-256", "x-hub-signature"} if name.startswith("x-hub-") else {name}
        partial = {k: v for k, v in sent.items() if k not in drop}
        assert not verify_signature(spec, "secret", b"{}", partial, now=1000), name


GARBAGE_VALUES = [
    "", " ", "v1,", "v1,!!!not-base64!!!", "sha256=zz", "t=abc,v1=00", "t=１７００,v1=00",
    "t=-5,v1=00", "t=1.5,v1=00", "t=" + "9" * 5000 + ",v1=00", "ünïcødé ☃", "\ud800", "\x00\xff",
    "=,=,,,", "v0=" + "g" * 64,
]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
@pytest.mark.parametrize("junk", GARBAGE_VALUES)
def test_garbage_header_values_rejected_without_exception(spec: SignatureSpec, junk: str) -> None:
    headers = {name: [junk] for name in HEADER_NAMES}
    assert verify_signature(spec, "secret", b"{}", headers, now=1000) is False


@pytest.mark.parametrize("headers", [None, [], "x", {"x-gitlab-token": []},
                                     {"x-gitlab-token": [None]}, {"x-gitlab-token": [b"secret"]},
                                     {"x-gitlab-token": 5}, {"x-gitlab-token": {"secret"}}])
def test_malformed_header_containers_rejected(headers: Any) -> None:
    assert verify_signature(GITLAB, "secret", b"{}", headers) is False


@pytest.mark.parametrize("ts", ["abc", "", "１５３１４２０６１８", "-1531420618", "1531420618.0",
                                " 1531420618", "9" * 5000, "\ud800"])
def test_garbage_timestamps_rejected(ts: str) -> None:
    assert not slack_ok(ts=ts)
    assert not std_ok(std_headers(ts=ts))


def test_non_bytes_body_odd_spec_or_secret_rejected() -> None:
    md5 = SignatureSpec("hmac", TEMPLATE, algorithm="md5", header="x")
    assert not verify_signature(GITHUB, "s", "data", {})  # type: ignore[arg-type]
    assert not verify_signature(GITHUB, None, b"", {})  # type: ignore[arg-type]
    assert not verify_signature(SignatureSpec("bitbucket", TEMPLATE), "s", b"", {})
    assert not verify_signature(SignatureSpec("hmac", TEMPLATE), "s", b"", {"": ["x"]})
    assert not verify_signature(md5, "s", b"", h(x=hmac.new(b"s", b"", "md5").hexdigest()))
    assert not verify_signature(None, "s", b"", {})  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ round trips

@pytest.mark.parametrize("kind", PRESETS)
def test_round_trip_every_preset(kind: str) -> None:
    spec, secret, body, now = preset(kind), "s3cret-\u00e9", '{"hi": "wörld"}'.encode(), 1_700_000_000
    sent = as_headers(sign(spec, secret, body, now=now, delivery_id="delivery-1"))
    assert verify_signature(spec, secret, body, sent, now=now + 60)
    assert not verify_signature(spec, "other", body, sent, now=now + 60)
    # GitLab sends a shared token and does not sign the body; every other scheme does.
    assert verify_signature(spec, secret, body + b"!", sent, now=now + 60) is (kind == "gitlab")


@pytest.mark.parametrize("kind", PRESETS)
def test_round_trip_with_real_clock(kind: str) -> None:
    spec = preset(kind)
    assert verify_signature(spec, "s", b"x", as_headers(sign(spec, "s", b"x")))


HMAC_MATRIX = list(itertools.product(("sha1", "sha256", "sha512"), ("hex", "base64"),
                                     ("", "sha256="), (None, "X-Timestamp")))


@pytest.mark.parametrize(("algorithm", "encoding", "prefix", "ts_header"), HMAC_MATRIX)
def test_round_trip_hmac(algorithm: str, encoding: str, prefix: str, ts_header: str | None) -> None:
    extra = {"timestampHeader": ts_header} if ts_header else {}
    spec = hmac_spec(algorithm=algorithm, encoding=encoding, prefix=prefix, **extra)
    body, now = b"\x00binary\xffbody", 1_700_000_000
    sent = as_headers(sign(spec, "k3y", body, now=now))
    assert sent["x-sig"][0].startswith(prefix)
    assert ("x-timestamp" in sent) == bool(ts_header)
    assert verify_signature(spec, "k3y", body, sent, now=now + 5)
    assert not verify_signature(spec, "k3y", body[:-1], sent, now=now + 5)
    assert not verify_signature(spec, "k3z", body, sent, now=now + 5)
    if ts_header:
        assert not verify_signature(spec, "k3y", body, sent, now=now + 301)
        assert not verify_signature(spec, "k3y", body, sent, now=now - 301)


def test_sign_delivery_ids() -> None:
    assert sign(GITHUB, "s", b"", delivery_id="abc")["x-github-delivery"] == "abc"
    first, second = (sign(GITHUB, "s", b"")["x-github-delivery"] for _ in range(2))
    assert first and second and first != second


def test_sign_refuses_incomplete_spec_without_leaking_secret() -> None:
    for spec in (SignatureSpec("hmac", TEMPLATE), SignatureSpec("nope", TEMPLATE)):
        with pytest.raises(ValueError) as err:
            sign(spec, MARKER, b"")
        assert MARKER not in str(err.value)


# --------------------------------------------------------------------------- parse_signature

def test_parse_presets_defaults() -> None:
    assert PRESETS == ("github", "gitlab", "stripe", "slack", "standard", "shopify")
    for kind in PRESETS:
        spec = preset(kind)
        assert (spec.type, spec.secret, spec.algorithm, spec.header) == (kind, TEMPLATE, "sha256", None)
        assert spec.tolerance == (300 if kind in {"stripe", "slack", "standard"} else None)
    assert preset("slack", tolerance=60).tolerance == 60


def test_parse_hmac_full() -> None:
    spec = hmac_spec(header="X-Hook-Sig", algorithm="sha1", encoding="base64", prefix="sha1=",
                     timestampHeader="X-Hook-Time")
    assert spec == SignatureSpec("hmac", TEMPLATE, "sha1", "x-hook-sig", "base64", "sha1=",
                                 "x-hook-time", 300)
    plain = hmac_spec()
    assert (plain.algorithm, plain.encoding, plain.prefix, plain.timestamp_header,
            plain.tolerance) == ("sha256", "hex", "", None, None)
    assert hmac_spec(timestampHeader="x-ts", tolerance=30).tolerance == 30
    with pytest.raises(dataclasses.FrozenInstanceError):
        plain.secret = "x"  # type: ignore[misc]


SECRET_T = "{{ secret('" + MARKER + "') }}"
PARSE_ERRORS = [
    ({"type": "github", "secret": "hunter2-" + MARKER}, "signature.secret"),
    ({"type": "github", "secret": MARKER + " }} {{"}, "signature.secret"),
    ({"type": "github", "secret": "   "}, "signature.secret"),
    ({"type": "github", "secret": 12345}, "signature.secret"),
    ({"type": "github"}, "signature.secret"),
    ({"type": "bitbucket", "secret": SECRET_T}, "signature.type"),
    ({"secret": SECRET_T}, "signature.type"),
    ({"type": ["github"], "secret": SECRET_T}, "signature.type"),
    ({"type": "github", "secret": SECRET_T, "colour": "red"}, "signature.colour"),
    ({"type": "github", "secret": SECRET_T, "header": "x-sig"}, "signature.header"),
    ({"type": "stripe", "secret": SECRET_T, "algorithm": "sha1"}, "signature.algorithm"),
    ({"type": "github", "secret": SECRET_T, "tolerance": 60}, "signature.tolerance"),
    ({"type": "hmac", "secret": SECRET_T, "header": "x", "timestamp_header": "t"},
     "signature.timestamp_header"),
    ({"type": "hmac", "secret": SECRET_T}, "signature.header"),
    ({"type": "hmac", "secret": SECRET_T, "header": "  "}, "signature.header"),
    ({"type": "hmac", "secret": SECRET_T, "header": "x", "algorithm": "md5"}, "signature.algorithm"),
    ({"type": "hmac", "secret": SECRET_T, "header": "x", "encoding": "base32"}, "signature.encoding"),
    ({"type": "hmac", "secret": SECRET_T, "header": "x", "prefix": 5}, "signature.prefix"),
    ({"type": "hmac", "secret": SECRET_T, "header": "x", "timestampHeader": 5},
     "signature.timestampHeader"),
    ({"type": "hmac", "secret": SECRET_T, "header": "x", "tolerance": 60}, "signature.tolerance"),
    ({"type": "stripe", "secret": SECRET_T, "tolerance": 0}, "signature.tolerance"),
    ({"type": "stripe", "secret": SECRET_T, "tolerance": -5}, "signature.tolerance"),
    ({"type": "stripe", "secret": SECRET_T, "tolerance": True}, "signature.tolerance"),
    ({"type": "stripe", "secret": SECRET_T, "tolerance": "300"}, "signature.tolerance"),
    ({"type": "stripe", "secret": SECRET_T, "tolerance": 1.5}, "signature.tolerance"),
]


@pytest.mark.parametrize(("raw", "field"), PARSE_ERRORS)
def test_parse_errors_name_field_and_hide_secret(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(SignatureError) as err:
        parse_signature(raw)
    assert str(err.value).startswith(field + ":"), str(err.value)
    assert MARKER not in str(err.value)
    assert isinstance(err.value, ValueError)


def test_literal_secret_message() -> None:
    with pytest.raises(SignatureError) as err:
        parse_signature({"type": "github", "secret": "my-literal-secret"})
    assert str(err.value).startswith("signature.secret: must be a template such as")
    assert "stays out of the DAG file" in str(err.value)
    assert "my-literal-secret" not in str(err.value)


def test_algorithm_error_lists_choices() -> None:
    with pytest.raises(SignatureError, match="^signature.algorithm: must be one of sha1, sha256, sha512"):
        hmac_spec(algorithm="md5")


@pytest.mark.parametrize("raw", [None, "github", ["type", "github"], 42])
def test_parse_rejects_non_mapping(raw: Any) -> None:
    with pytest.raises(SignatureError, match="^signature: "):
        parse_signature(raw)


# ------------------------------------------------------------------------- preset_delivery_id

@pytest.mark.parametrize(("kind", "headers", "body", "expected"), [
    ("github", h(x_github_delivery="72d3162e-cc78-11e3"), None, "72d3162e-cc78-11e3"),
    ("standard", h(webhook_id="msg_1"), None, "msg_1"),
    ("standard", h(svix_id="msg_2"), None, "msg_2"),
    ("standard", {"webhook-id": ["msg_a", "msg_b"]}, None, "msg_a"),
    ("stripe", {}, {"id": "evt_1", "object": "event"}, "evt_1"),
    ("stripe", h(x_github_delivery="d"), {"id": 5}, None),
    ("stripe", {}, ["evt_1"], None),
    ("stripe", {}, None, None),
    ("gitlab", h(x_gitlab_event_uuid="uuid-1"), None, "uuid-1"),
    ("shopify", h(x_shopify_webhook_id="shop-1"), None, "shop-1"),
    ("slack", h(x_slack_request_timestamp="1"), {"id": "x"}, None),
    ("hmac", h(x_github_delivery="d"), {"id": "x"}, None),
    ("github", {}, None, None),
    ("github", h(x_github_delivery="   "), None, None),
    ("github", {"x-github-delivery": []}, None, None),
    ("gitlab", h(x_github_delivery="d"), None, None),
])
def test_preset_delivery_id(kind: str, headers: Headers, body: Any, expected: str | None) -> None:
    assert preset_delivery_id(kind, headers, body) == expected


def test_sign_emits_the_delivery_id_preset_delivery_id_reads() -> None:
    for kind in ("github", "standard", "gitlab", "shopify"):
        sent = as_headers(sign(preset(kind), "s", b"{}", delivery_id="dlv-7"))
        assert preset_delivery_id(kind, sent, None) == "dlv-7"


# ------------------------------------------------------------------------------ property tests

any_text = st.text(st.characters(), max_size=80)  # includes lone surrogates and control chars
header_value = st.one_of(
    any_text,
    st.from_regex(r"t=\d{0,12},v1=[0-9a-f]{0,64}", fullmatch=True),
    st.from_regex(r"v1,[A-Za-z0-9+/=]{0,50}( v1,[A-Za-z0-9+/=]{0,50})?", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(spec=st.sampled_from(ALL_SPECS), secret=any_text, body=st.binary(max_size=256),
       headers=st.dictionaries(st.sampled_from(HEADER_NAMES), st.lists(header_value, max_size=3)),
       now=st.one_of(st.none(), st.floats(), st.integers(0, 2**40)))
def test_verify_never_raises(spec: SignatureSpec, secret: str, body: bytes, headers: Headers,
                             now: float | None) -> None:
    assert verify_signature(spec, secret, body, headers, now=now) in (True, False)


@settings(max_examples=200, deadline=None)
@given(spec=st.sampled_from(ALL_SPECS), secret=any_text.filter(bool), body=st.binary(max_size=256),
       delivery_id=st.one_of(st.none(), st.text(min_size=1, max_size=40)))
def test_sign_verify_round_trip_property(spec: SignatureSpec, secret: str, body: bytes,
                                         delivery_id: str | None) -> None:
    sent = as_headers(sign(spec, secret, body, now=1_700_000_000, delivery_id=delivery_id))
    assert verify_signature(spec, secret, body, sent, now=1_700_000_000)

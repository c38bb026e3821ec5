"""Example deliveries in the shape each sender documents, for ``airflow-webhooks send --preset``.

Why ship them: testing a webhook by hand means finding a realistic payload and its event
headers for the sender, then signing it. These are trimmed copies of the examples in the
senders' public documentation (GitHub "Webhook events and payloads", GitLab "Webhook events",
Stripe "Event object", Slack "Slash commands" and "url_verification", Standard Webhooks spec,
Shopify "orders/create"): every field a recipe's conditions or inputs read is where the
sender puts it. Ids that senders use to de-duplicate are fresh on every call, so each
``send`` is a new delivery. Signature headers are not here: ``sending.py`` adds them.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

__all__ = ["Sample", "SAMPLES", "sample"]


@dataclass(frozen=True)
class Sample:
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    description: str = ""


def _json(value: dict) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


_REPOSITORY = {
    "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "Hello-World", "full_name": "octocat/Hello-World",
    "private": False, "owner": {"login": "octocat", "id": 1, "type": "User"},
    "html_url": "https://github.com/octocat/Hello-World", "default_branch": "main",
}
_SENDER = {"login": "octocat", "id": 1, "type": "User"}


def github_push(ref: str = "refs/heads/main") -> Sample:
    after = secrets.token_hex(20)
    commit = {
        "id": after, "tree_id": secrets.token_hex(20), "distinct": True, "message": "Update README.md",
        "timestamp": "2026-01-02T03:04:05Z", "url": f"https://github.com/octocat/Hello-World/commit/{after}",
        "author": {"name": "Monalisa Octocat", "email": "mona@github.com", "username": "octocat"},
        "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
        "added": [], "removed": [], "modified": ["README.md"],
    }
    body = {
        "ref": ref, "before": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "after": after,
        "repository": _REPOSITORY, "pusher": {"name": "octocat", "email": "mona@github.com"}, "sender": _SENDER,
        "created": False, "deleted": False, "forced": False, "base_ref": None,
        "compare": f"https://github.com/octocat/Hello-World/compare/6dcb09b5b578...{after[:12]}",
        "commits": [commit], "head_commit": commit,
    }
    return Sample("application/json", _json(body), {"X-GitHub-Event": "push", "User-Agent": "GitHub-Hookshot/044aadd"},
                  "GitHub push to main")


def github_pull_request(action: str = "opened", base: str = "main") -> Sample:
    number = 1347
    body = {
        "action": action, "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/octocat/Hello-World/pulls/{number}", "id": 1, "number": number,
            "state": "open", "locked": False, "title": "Amazing new feature", "user": _SENDER,
            "body": "Please pull these awesome changes in!", "draft": False, "merged": False,
            "html_url": f"https://github.com/octocat/Hello-World/pull/{number}",
            "head": {"label": "octocat:new-topic", "ref": "new-topic", "sha": secrets.token_hex(20)},
            "base": {"label": f"octocat:{base}", "ref": base, "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
            "labels": [{"name": "enhancement"}],
        },
        "repository": _REPOSITORY, "sender": _SENDER,
    }
    return Sample("application/json", _json(body),
                  {"X-GitHub-Event": "pull_request", "User-Agent": "GitHub-Hookshot/044aadd"},
                  f"GitHub pull_request {action} against {base}")


def gitlab_push(ref: str = "refs/heads/master") -> Sample:
    after = secrets.token_hex(20)
    body = {
        "object_kind": "push", "event_name": "push", "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
        "after": after, "ref": ref, "ref_protected": True, "checkout_sha": after, "message": "Hello World",
        "user_id": 4, "user_name": "John Smith", "user_username": "jsmith", "user_email": "john@example.com",
        "user_avatar": "https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80",
        "project_id": 15,
        "project": {
            "id": 15, "name": "Diaspora", "description": "", "web_url": "http://example.com/mike/diaspora",
            "git_ssh_url": "git@example.com:mike/diaspora.git", "git_http_url": "http://example.com/mike/diaspora.git",
            "namespace": "Mike", "visibility_level": 0, "path_with_namespace": "mike/diaspora",
            "default_branch": "master",
        },
        "commits": [{
            "id": after,
            "message": "Update Catalan translation to e38cb41.\n\nSee https://gitlab.com/gitlab-org/gitlab for more information",
            "title": "Update Catalan translation to e38cb41.", "timestamp": "2011-12-12T14:27:31+02:00",
            "url": f"http://example.com/mike/diaspora/commit/{after}",
            "author": {"name": "Jordi Mallach", "email": "jordi@softcatala.org"},
            "added": ["CHANGELOG"], "modified": ["app/controller/application.rb"], "removed": [],
        }],
        "total_commits_count": 1,
        "repository": {"name": "Diaspora", "url": "git@example.com:mike/diaspora.git", "description": "",
                       "homepage": "http://example.com/mike/diaspora"},
    }
    return Sample("application/json", _json(body),
                  {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Instance": "https://gitlab.example.com",
                   "User-Agent": "GitLab/17.0.0"}, "GitLab push hook")


def stripe_event(event_type: str = "payment_intent.succeeded") -> Sample:
    body = {
        "id": f"evt_{secrets.token_hex(12)}", "object": "event", "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {"object": {
            "id": f"pi_{secrets.token_hex(12)}", "object": "payment_intent", "amount": 2000, "amount_received": 2000,
            "currency": "usd", "customer": "cus_NffrFeUfNV2Hib", "description": "Order #1042",
            "metadata": {"order_id": "1042"}, "status": "succeeded", "livemode": False,
        }},
        "livemode": False, "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None}, "type": event_type,
    }
    return Sample("application/json", _json(body), {"User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"},
                  f"Stripe {event_type} event")


def slack_command(text: str = "deploy api") -> Sample:
    form = {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO", "team_id": "T0001", "team_domain": "example",
        "enterprise_id": "E0001", "enterprise_name": "Globular Construct Inc",
        "channel_id": "C2147483705", "channel_name": "test", "user_id": "U2147483697", "user_name": "Steve",
        "command": "/airflow", "text": text,
        "response_url": "https://hooks.slack.com/commands/1234/5678",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0", "api_app_id": "A123456",
    }
    return Sample("application/x-www-form-urlencoded", urlencode(form).encode(),
                  {"User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"},
                  f"Slack slash command /airflow {text}")


def slack_url_verification() -> Sample:
    body = {"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": secrets.token_urlsafe(39), "type": "url_verification"}
    return Sample("application/json", _json(body), {"User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"},
                  "Slack Events API url_verification handshake")


def slack_app_mention(text: str = "<@U0LAN0Z89> is it everything a river should be?") -> Sample:
    body = {
        "token": "XXYYZZ", "team_id": "T123ABC456", "api_app_id": "A123ABC456",
        "event": {"type": "app_mention", "user": "U123ABC456", "text": text, "ts": "1515449522.000016",
                  "channel": "C123ABC456", "event_ts": "1515449522.000016"},
        "type": "event_callback", "authed_users": ["U0LAN0Z89"],
        "event_id": f"Ev{secrets.token_hex(5).upper()}", "event_time": int(time.time()),
    }
    return Sample("application/json", _json(body), {"User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"},
                  "Slack Events API app_mention")


def standard_event() -> Sample:
    body = {"type": "contact.created", "timestamp": "2022-11-03T20:26:10.344522Z",
            "data": {"id": "1f81eb52-5198-4599-803e-771906343485", "type": "contact"}}
    return Sample("application/json", _json(body), {}, "Standard Webhooks contact.created")


def shopify_order() -> Sample:
    body = {"id": 820982911946154508, "email": "jon@example.com", "total_price": "403.00", "currency": "USD",
            "financial_status": "paid",
            "line_items": [{"id": 866550311766439020, "title": "IPod Nano - 8GB", "quantity": 1}]}
    return Sample("application/json", _json(body), {"X-Shopify-Topic": "orders/create",
                                                    "X-Shopify-Shop-Domain": "example.myshopify.com"},
                  "Shopify orders/create")


def curl_hello() -> Sample:
    return Sample("application/json", _json({"hello": "world"}), {}, "a plain JSON body, as curl would send it")


SAMPLES = {
    "github": github_push,
    "github-pull-request": github_pull_request,
    "gitlab": gitlab_push,
    "stripe": stripe_event,
    "slack": slack_command,
    "slack-url-verification": slack_url_verification,
    "slack-event": slack_app_mention,
    "standard": standard_event,
    "shopify": shopify_order,
    "curl": curl_hello,
}


def sample(name: str) -> Sample:
    """A fresh sample delivery; ``KeyError`` names the known presets."""
    if name not in SAMPLES:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(SAMPLES)}")
    return SAMPLES[name]()

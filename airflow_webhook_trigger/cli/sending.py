"""Sending a real, signed test delivery to a running Airflow, as the sender would.

Why: the signature is the one step a dry run cannot check, and the usual way to test it is to
wait for the real sender. ``send`` signs the body with the trigger's own secret (rendered from
Airflow's Variables or secrets backend, like the api-server does) through
``signatures.sign`` — the same code that verifies — and posts it to the real URL.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode

from airflow_webhook_trigger.cli.dry_run import how_to_fix
from airflow_webhook_trigger.declarations import WebhookTrigger
from airflow_webhook_trigger.signatures import sign
from airflow_webhook_trigger.templating import TemplateRenderError, flow_context, render
from airflow_webhook_trigger.urls import masked_url, webhook_url

__all__ = ["Delivery", "signature_headers", "post", "SendError"]


class SendError(Exception):
    """A delivery could not be prepared or sent; the message says what to change."""


@dataclass(frozen=True)
class Delivery:
    method: str
    url: str  # with the key
    masked_url: str  # the same with *** for the key, for printing
    headers: dict[str, str]
    body: bytes


def signature_headers(trigger: WebhookTrigger, dag_id: str, namespace: str, body: bytes) -> dict[str, str]:
    """The headers the trigger's sender would add to sign ``body`` (none without a signature)."""
    if trigger.signature is None:
        return {}
    try:
        secret = render(trigger.signature.secret, flow_context(dag_id, namespace)).strip()
    except TemplateRenderError as exc:
        raise SendError(f"the signature secret of trigger {trigger.id!r} does not render ({exc}): "
                        f"{how_to_fix(exc)}, or pass --no-sign") from None
    if not secret:
        raise SendError(f"the signature secret of trigger {trigger.id!r} renders empty: set a value, or pass --no-sign")
    return sign(trigger.signature, secret, body)


def build(method: str, base_url: str, namespace: str, dag_id: str, key: str, headers: dict[str, str],
          body: bytes, params: list[tuple[str, str]]) -> Delivery:
    query = f"?{urlencode(params)}" if params else ""
    return Delivery(method, webhook_url(base_url, namespace, dag_id, key) + query,
                    masked_url(base_url, namespace, dag_id) + query, headers, body)


def post(delivery: Delivery, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send it; return (status, headers, body). Errors the person can act on raise SendError."""
    request = urllib.request.Request(delivery.url, data=delivery.body if delivery.method != "GET" else None,
                                     method=delivery.method, headers=delivery.headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:  # 4xx/5xx are answers, not failures
        return exc.code, dict(exc.headers or {}), exc.read()
    except urllib.error.URLError as exc:
        reason = getattr(exc, "reason", exc)
        raise SendError(f"cannot reach Airflow at {delivery.masked_url.split('/api/')[0]} ({reason}): "
                        "start the api-server, or pass --url with its address") from None
    except TimeoutError:
        raise SendError(f"no answer within {timeout:g} s: raise --timeout (a `wait: true` trigger answers "
                        "when its run ends)") from None

"""One webhook trigger per signature scheme, declared as Kestra-style YAML.

Every secret is a ``secret('...')`` template (an Airflow Variable the test sets through the
REST API). The condition is false when the request carries ``X-T4-Skip``, which proves the
signature is checked before the conditions (a bad signature with a false condition is a 401).
"""

from __future__ import annotations

from airflow.sdk import DAG, task

from airflow_webhook_trigger import validate_declaration

SKIP = """
    conditions:
      - type: ExpressionCondition
        expression: "{{ 'x-t4-skip' not in trigger.headers }}"
"""

DECLARATION = f"""
triggers:
  - id: github
    type: io.kestra.plugin.core.trigger.Webhook
    key: t4-sig-github
    signature: {{type: github, secret: "{{{{ secret('SIG_GITHUB') }}}}"}}
{SKIP}
  - id: gitlab
    key: t4-sig-gitlab
    signature: {{type: gitlab, secret: "{{{{ secret('SIG_GITLAB') }}}}"}}
{SKIP}
  - id: stripe
    key: t4-sig-stripe
    signature: {{type: stripe, secret: "{{{{ secret('SIG_STRIPE') }}}}", tolerance: 300}}
{SKIP}
  - id: slack
    key: t4-sig-slack
    signature: {{type: slack, secret: "{{{{ secret('SIG_SLACK') }}}}"}}
{SKIP}
  - id: standard
    key: t4-sig-standard
    signature: {{type: standard, secret: "{{{{ secret('SIG_STANDARD') }}}}"}}
{SKIP}
  - id: shopify
    key: t4-sig-shopify
    signature: {{type: shopify, secret: "{{{{ secret('SIG_SHOPIFY') }}}}"}}
{SKIP}
  - id: hmac
    key: t4-sig-hmac
    signature:
      type: hmac
      secret: "{{{{ secret('SIG_HMAC') }}}}"
      algorithm: sha512
      header: X-Signature
      encoding: base64
      prefix: "sha512="
{SKIP}
  - id: hmac_timed
    key: t4-sig-hmac-timed
    signature:
      type: hmac
      secret: "{{{{ var.value.SIG_HMAC }}}}"
      header: X-Signature
      timestampHeader: X-Timestamp
      tolerance: 60
{SKIP}
"""

with DAG(
    dag_id="signatures_presets",
    schedule=None,
    tags=["webhook", "test", "t4"],
    params={"webhook": validate_declaration(DECLARATION)},
):

    @task
    def noop():
        return "ok"

    noop()

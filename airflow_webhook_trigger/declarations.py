"""Reading a webhook declaration from a DAG's ``webhook`` param into typed triggers.

A declaration is a mapping, a list of mappings, or a YAML string holding either (so a Kestra
trigger can be pasted as is). ``parse_declaration`` is strict: an unknown property is an error
naming the field, because a typo such as ``condition:`` would otherwise silently accept every
request. The same parser runs when a DAG file is parsed (through ``webhook()``) and when the
api-server indexes serialized DAGs, so the two can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from airflow_webhook_trigger import config
from airflow_webhook_trigger.asset_target import as_declared, parse_asset_target
from airflow_webhook_trigger.conditions import Condition, WhenCondition, parse_conditions
from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.labels import parse_labels
from airflow_webhook_trigger.rate_limits import parse_rate_limit
from airflow_webhook_trigger.respond_rules import parse_responses
from airflow_webhook_trigger.signatures import SignatureError, parse_signature, reads_a_secret
from airflow_webhook_trigger.templating import TemplateRenderError, check_syntax

__all__ = ["WebhookTrigger", "parse_declaration", "webhook", "validate_declaration", "PARAM_NAME"]

PARAM_NAME = "webhook"
WEBHOOK_TYPES = ("io.kestra.plugin.core.trigger.Webhook", "io.kestra.core.models.triggers.types.Webhook", "Webhook")
CONTENT_TYPES = ("application/json", "text/plain")
FETCH_TYPES = ("FETCH", "STORE", "NONE")  # Kestra's fetchType: the body in the conf, in storage, or dropped
MAX_KEY_LENGTH = 256
_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")


@dataclass(frozen=True)
class WebhookTrigger:
    """One webhook trigger of a DAG, as declared (templates unrendered)."""

    key: str
    id: str = "webhook"
    namespace: str | None = None  # None: [webhook_trigger] default_namespace
    conditions: tuple[Condition, ...] = ()
    disabled: bool = False
    description: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)
    wait: bool = False
    timeout: float | None = None
    return_outputs: bool = False
    outputs: Mapping[str, str] | str | None = None
    response_code: str | None = None
    response_content_type: str | None = None
    signature: Any = None  # signatures.SignatureSpec
    delivery_id: str | None = None
    rate_limit: Any = None  # limits.RateLimitItem
    respond: tuple = ()  # responses.ImmediateResponse: handshakes answered without a run
    when: str | None = None  # Kestra 2.x: also evaluated as a WhenCondition among the conditions
    labels: tuple[tuple[str, str], ...] = ()  # (key, template), labels.py
    fetch_type: str = "FETCH"
    ignored: tuple[str, ...] = ()  # properties accepted as Kestra does and ignored (returnOutputs without wait)

    @property
    def stores_body(self) -> bool:
        return self.fetch_type == "STORE"
    asset: Any = None  # asset_target.AssetTarget: record an asset event instead of starting the DAG


# --- field readers ---------------------------------------------------------------------------


def _template(value: Any, where: str, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise WebhookDeclarationError(where, "required and must not be blank")
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise WebhookDeclarationError(where, f"must be a string (a template), got {type(value).__name__}")
    value = str(value)
    try:
        check_syntax(value)
    except TemplateRenderError as exc:
        raise WebhookDeclarationError(where, str(exc)) from None
    return value


def _bool(value: Any, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise WebhookDeclarationError(where, f"must be true or false, got {value!r}")
    return value


def _key(value: Any, where: str) -> str:
    key = _template(value, where, required=True)
    if len(key.strip()) > MAX_KEY_LENGTH:
        raise WebhookDeclarationError(where, f"must be at most {MAX_KEY_LENGTH} characters")
    if not reads_a_secret(key) and not config.get_bool("allow_literal_keys"):
        raise WebhookDeclarationError(where, "must read a secret, e.g. \"{{ secret('NAME') }}\" "
                                             "([webhook_trigger] allow_literal_keys is False: a literal key is "
                                             "visible to everyone who can read the DAG)")
    return key


def _response_code(value: Any, where: str) -> str | None:
    """A template; when it is a plain number, it must be a status code from 200 to 599."""
    template = _template(value, where)
    if template is not None and "{" not in template:
        text = template.strip()
        if not text.isdigit() or not 200 <= int(text) <= 599:
            raise WebhookDeclarationError(where, f"must be an HTTP status code from 200 to 599, got {text!r}")
    return template


def _namespace(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise WebhookDeclarationError(where, "must be a non-blank string such as company.team")
    if "/" in value or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise WebhookDeclarationError(where, "must not contain '/', spaces or control characters")
    return value


def _id(value: Any, where: str) -> str:
    if value is None:
        return "webhook"
    if not isinstance(value, str) or not _ID.match(value):
        raise WebhookDeclarationError(where, "must match ^[a-zA-Z0-9][a-zA-Z0-9_-]* (e.g. webhook, github_push)")
    return value


def _type(value: Any, where: str) -> None:
    if value is not None and value not in WEBHOOK_TYPES:
        raise WebhookDeclarationError(where, f"must be {WEBHOOK_TYPES[0]} (or {WEBHOOK_TYPES[1]}), got {value!r}")


def _inputs(value: Any, where: str) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise WebhookDeclarationError(where, "must map DAG param names to templates")
    return {str(name): _template(tpl, f"{where}.{name}", required=True) for name, tpl in value.items()}


def _timeout(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise WebhookDeclarationError(where, "must be a positive number of seconds")
    return float(value)


def _outputs(value: Any, where: str) -> Mapping[str, str] | str | None:
    if value is None or isinstance(value, str):
        return _template(value, where)
    return _inputs(value, where)


def _content_type(value: Any, where: str) -> str | None:
    if value is not None and value not in CONTENT_TYPES:
        raise WebhookDeclarationError(where, f"must be one of {', '.join(CONTENT_TYPES)}, got {value!r}")
    return value


def _signature(value: Any, where: str) -> Any:
    if value is None:
        return None
    try:
        return parse_signature(value)
    except SignatureError as exc:
        raise WebhookDeclarationError(where.rsplit(".", 1)[0], str(exc)) from None


def _rate_limit(value: Any, where: str) -> Any:
    if value is None:
        return None
    try:
        return parse_rate_limit(value)
    except ValueError as exc:
        raise WebhookDeclarationError(where, str(exc)) from None


def _respond(value: Any, where: str) -> tuple:
    return parse_responses(value, where)


def _fetch_type(value: Any, where: str) -> str:
    if value is None:
        return "FETCH"
    if value not in FETCH_TYPES:
        raise WebhookDeclarationError(where, f"must be one of {', '.join(FETCH_TYPES)}, got {value!r}")
    return value


# property name in the declaration -> (attribute, reader)
_FIELDS: dict[str, tuple[str | None, Any]] = {
    "id": ("id", _id),
    "type": (None, _type),
    "key": ("key", _key),
    "namespace": ("namespace", _namespace),
    "conditions": ("conditions", lambda v, w: parse_conditions(v, w)),
    "disabled": ("disabled", _bool),
    "description": ("description", lambda v, w: None if v is None else str(v)),
    "inputs": ("inputs", _inputs),
    "wait": ("wait", _bool),
    "timeout": ("timeout", _timeout),
    "returnOutputs": ("return_outputs", _bool),
    "outputs": ("outputs", _outputs),
    "responseCode": ("response_code", _response_code),
    "responseContentType": ("response_content_type", _content_type),
    "signature": ("signature", _signature),
    "deliveryId": ("delivery_id", _template),
    "rateLimit": ("rate_limit", _rate_limit),
    "respond": ("respond", _respond),
    "when": ("when", _template),
    "labels": ("labels", lambda v, w: parse_labels(v, w)),
    "fetchType": ("fetch_type", _fetch_type),
    "asset": ("asset", parse_asset_target),
}


def _trigger(raw: Any, where: str) -> WebhookTrigger:
    if not isinstance(raw, Mapping):
        raise WebhookDeclarationError(where, f"must be a mapping with at least a key, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in _FIELDS)
    if unknown:
        raise WebhookDeclarationError(f"{where}.{unknown[0]}", f"unknown property (allowed: {', '.join(_FIELDS)})")
    if "key" not in raw:
        raise WebhookDeclarationError(f"{where}.key", "required: the secret part of the URL")
    values = {}
    for name, (attribute, reader) in _FIELDS.items():
        value = reader(raw.get(name), f"{where}.{name}")
        if attribute is not None and name in raw:
            values[attribute] = value
    if values.get("when") is not None:  # evaluated first, with the conditions (204 when false)
        values["conditions"] = (WhenCondition(values["when"]), *values.get("conditions", ()))
    trigger = WebhookTrigger(**values)
    trigger = _check_combinations(trigger, where)
    return trigger


def _check_combinations(trigger: WebhookTrigger, where: str) -> WebhookTrigger:
    """Refuse what cannot work; Kestra 2.x accepts ``returnOutputs`` without ``wait`` and ignores
    it, so it is accepted, turned off and named in ``ignored`` (the listing shows it)."""
    if trigger.asset is not None and trigger.wait:
        raise WebhookDeclarationError(f"{where}.wait", "an asset target records an event, not a run: nothing to wait for")
    if trigger.return_outputs and not trigger.wait:
        trigger = replace(trigger, return_outputs=False, ignored=("returnOutputs",))
    for name, value in (("timeout", trigger.timeout), ("outputs", trigger.outputs),
                        ("responseCode", trigger.response_code),
                        ("responseContentType", trigger.response_content_type)):
        if value is not None and not trigger.wait:
            raise WebhookDeclarationError(f"{where}.{name}", "needs wait: true")
    if trigger.response_content_type is not None and not trigger.return_outputs:
        raise WebhookDeclarationError(f"{where}.responseContentType", "needs returnOutputs: true (the answer is the outputs)")
    reserved = _RESERVED_CONF_KEYS + (("uri",) if trigger.stores_body else ())
    for name in trigger.inputs:  # these conf keys carry the request itself (run_conf.run_conf)
        if name in reserved:
            raise WebhookDeclarationError(f"{where}.inputs.{name}", f"is reserved for the request's own {name}")
    return trigger


_RESERVED_CONF_KEYS = ("body", "headers", "parameters", "formFields", "parts", PARAM_NAME)


def _load_yaml(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise WebhookDeclarationError(where, f"invalid YAML{at}: {problem}") from None


def _default_id(item: Any, position: int) -> Any:
    """List items without an ``id`` are ``webhook``, ``webhook_2``, ``webhook_3``... in order."""
    if isinstance(item, Mapping) and "id" not in item and position > 0:
        return {**item, "id": f"webhook_{position + 1}"}
    return item


def parse_declaration(value: Any, where: str = PARAM_NAME) -> tuple[WebhookTrigger, ...]:
    """Every trigger a declaration holds, in order; raise ``WebhookDeclarationError`` if invalid."""
    if isinstance(value, str):
        value = _load_yaml(value, where)
    if isinstance(value, Mapping) and "key" not in value and "triggers" in value:
        value = value["triggers"]  # a Kestra flow's `triggers:` block pasted whole
    if isinstance(value, Mapping):
        triggers = (_trigger(value, where),)
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if not value:
            raise WebhookDeclarationError(where, "an empty list declares no webhook")
        triggers = tuple(_trigger(_default_id(item, i), f"{where}[{i}]") for i, item in enumerate(value))
    else:
        raise WebhookDeclarationError(
            where, f"must be a mapping, a list of mappings or a YAML string, got {type(value).__name__}"
        )
    seen: set[str] = set()
    for i, trigger in enumerate(triggers):
        if trigger.id in seen:
            raise WebhookDeclarationError(f"{where}[{i}].id", f"duplicate trigger id {trigger.id!r}")
        seen.add(trigger.id)
    return triggers


def validate_declaration(value: Any) -> Any:
    """Check a declaration when the DAG file is parsed, and return it unchanged.

    ``params={"webhook": validate_declaration(KESTRA_YAML)}``: an invalid declaration raises,
    so it shows as the DAG's import error in the Airflow UI instead of a silent 404 later.
    """
    parse_declaration(value)
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def webhook(key: str, *, id: str = "webhook", **properties: Any) -> dict[str, Any]:
    """Build a validated declaration for a DAG's params.

    ``params={"webhook": webhook("{{ secret('GH_HOOK_KEY') }}", conditions=[...])}``. Python
    names are accepted for Kestra's camelCase properties (``return_outputs`` -> ``returnOutputs``).
    The result is a plain mapping, so it serialises with the DAG like any param.
    """
    declaration: dict[str, Any] = {"id": id, "key": key}
    for name, value in properties.items():
        if value is not None:
            declaration[_camel(name)] = as_declared(value) if name == "asset" else value
    parse_declaration(declaration)
    return declaration

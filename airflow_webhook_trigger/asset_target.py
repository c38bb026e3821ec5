"""A webhook whose delivery records an asset event instead of starting the declaring DAG.

``asset: "s3://bucket/orders"`` (or ``{"uri": ..., "name": ..., "group": ...}``) in a trigger's
declaration: everything before the run is unchanged (404, 409, 401, 429, respond rules,
conditions, inputs), and then, instead of a run, the delivery records an event on that asset
through Airflow's own asset manager, so DAGs scheduled on the asset run (Airflow 3's
event-driven scheduling; Datasets on Airflow 2.10/2.11). The event's ``extra`` holds what the
run's conf would hold (body, headers, parameters, inputs; masked the same way) and, under
``webhook``, who sent it: namespace, declaring DAG, trigger id and the correlation id.

The asset is named as a DAG author names it (Airflow's own ``Asset``/``Dataset`` normalizes
the URI when the declaration is read, so ``s3://b/x/`` and ``s3://b/x`` are one asset). A
string names it by URI, a mapping by what it gives. How the asset is found or registered, and
why each delivery id records one event, is ``airflow/asset_events.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_webhook_trigger import storable
from airflow_webhook_trigger.airflow import asset_events
from airflow_webhook_trigger.airflow.asset_events import SOURCE_KEY, AssetEventRequest, RecordedEvent
from airflow_webhook_trigger.errors import WebhookDeclarationError

__all__ = ["AssetTarget", "RecordedEvent", "as_declared", "parse_asset_target", "record_event", "SOURCE_KEY"]

_FIELDS = ("uri", "name", "group")


@dataclass(frozen=True)
class AssetTarget:
    """The asset a trigger records events on, normalized as Airflow normalizes it."""

    uri: str
    name: str
    group: str | None = None  # None: Airflow's default group ("asset")
    by: str = "uri"  # what the declaration named it by: "uri", "name" or "both" (looked up by that)

    def describe(self) -> str:
        return self.uri if self.by == "uri" or self.name == self.uri else f"{self.name} ({self.uri})"


def parse_asset_target(value: Any, where: str) -> AssetTarget | None:
    """The declaration's ``asset``: a URI, or a mapping with ``uri``, ``name`` and/or ``group``."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"uri": value}
    if not isinstance(value, Mapping):
        raise WebhookDeclarationError(where, "must be the asset's URI or a mapping with uri, name and/or group")
    unknown = sorted(str(k) for k in value if k not in _FIELDS)
    if unknown:
        raise WebhookDeclarationError(f"{where}.{unknown[0]}", f"unknown property (allowed: {', '.join(_FIELDS)})")
    for name in _FIELDS:
        field = value.get(name)
        if field is not None and (not isinstance(field, str) or not field.strip()):
            raise WebhookDeclarationError(f"{where}.{name}", "must be a non-blank string")
    uri, name, group = value.get("uri"), value.get("name"), value.get("group")
    if uri is None and name is None:
        raise WebhookDeclarationError(where, "needs a uri or a name (e.g. asset: s3://bucket/orders)")
    try:
        name, uri, group = asset_events.normalized_asset(name, uri, group)
    except (TypeError, ValueError) as exc:
        raise WebhookDeclarationError(where, f"is not a valid asset: {exc}") from None
    declared = {field for field in ("uri", "name") if value.get(field) is not None}
    by = "both" if len(declared) == 2 else declared.pop()
    return AssetTarget(uri=uri, name=name, group=group, by=by)


def as_declared(value: Any) -> Any:
    """An ``Asset`` (``Dataset``) object given to ``webhook(asset=...)`` as the plain mapping a
    param can hold; anything else unchanged."""
    if isinstance(value, (str, Mapping)) or not hasattr(value, "uri"):
        return value
    declared = {"uri": value.uri, "name": getattr(value, "name", None), "group": getattr(value, "group", None)}
    return {key: item for key, item in declared.items() if item is not None}


def event_extra(conf: dict[str, Any], *, namespace: str, dag_id: str, trigger_id: str, correlation_id: str,
                delivery_id: str | None, received_at: datetime, labels: list[dict[str, str]] | None = None,
                ) -> dict[str, Any]:
    """The event's ``extra``: the conf a run would get, and the webhook that sent it (with the
    trigger's rendered ``labels``, Kestra's ``[{key, value}]`` shape)."""
    source = {"namespace": namespace, "dag_id": dag_id, "trigger_id": trigger_id, "id": correlation_id,
              "delivery_id": delivery_id, "received_at": received_at.isoformat(), "labels": labels or []}
    return storable.scrub({**conf, SOURCE_KEY: source})


def record_event(target: AssetTarget, *, namespace: str, dag_id: str, trigger_id: str, conf: dict[str, Any],
                 correlation_id: str, delivery_id: str | None, received_at: datetime,
                 labels: list[dict[str, str]] | None = None) -> RecordedEvent:
    """Record the delivery's event (or find the event of an earlier delivery with the same id).

    Raises ``DagGone``/``DagPaused`` when the declaring DAG is gone or paused at that moment.
    """
    extra = event_extra(conf, namespace=namespace, dag_id=dag_id, trigger_id=trigger_id,
                        correlation_id=correlation_id, delivery_id=delivery_id, received_at=received_at,
                        labels=labels)
    return asset_events.record_asset_event(AssetEventRequest(
        dag_id=dag_id, name=target.name, uri=target.uri, group=target.group, by=target.by, extra=extra,
        dedupe_id=correlation_id if delivery_id else None,
    ))

"""The index of declared webhooks: (namespace, dag_id) -> triggers, built from serialized DAGs.

Why an index: a request must never parse DAG files nor deserialize DAGs. Each api-server worker
keeps its own index in memory and refreshes it in a background thread every
``[webhook_trigger] refresh_interval`` seconds. A refresh costs one tiny query while nothing has
changed (a count and a max timestamp of ``serialized_dag``) plus one for the few paused or stale
DAGs; only DAGs whose serialized version changed are read again, and of those only the
``webhook`` param is decoded. A lookup is then two dictionary reads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_webhook_trigger import config
from airflow_webhook_trigger.airflow import serialized_dags
from airflow_webhook_trigger.airflow.database import create_session
from airflow_webhook_trigger.declarations import PARAM_NAME, WebhookTrigger, parse_declaration
from airflow_webhook_trigger.errors import WebhookDeclarationError
from airflow_webhook_trigger.inputs import schema_types

__all__ = ["IndexedDag", "InvalidDeclaration", "WebhookIndex", "get_index", "loaded_index"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexedDag:
    """One DAG's webhook triggers in one namespace, with what the 409 check needs."""

    dag_id: str
    namespace: str
    triggers: tuple[WebhookTrigger, ...]
    fileloc: str | None = None
    input_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # input name -> its param's types


@dataclass(frozen=True)
class InvalidDeclaration:
    dag_id: str
    fileloc: str | None
    reason: str


@dataclass(frozen=True)
class _Parsed:
    """What one serialized DAG version declares (cached by version so it is parsed once)."""

    dag_hash: str
    triggers: tuple[WebhookTrigger, ...]
    fileloc: str | None
    error: str | None
    input_types: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def read_input_types(data: Mapping[str, Any], triggers: tuple[WebhookTrigger, ...]) -> dict[str, tuple[str, ...]]:
    """The JSON-schema types of the params the triggers' inputs fill (typed inputs, ``inputs.py``):
    read once per DAG version, here, so a request only converts."""
    names = {name for trigger in triggers for name in trigger.inputs}
    if not names:
        return {}
    dag = data.get("dag", {}) if isinstance(data, Mapping) else {}
    try:
        schemas = serialized_dags.decode_param_schemas(dag.get("params") or (), names)
    except Exception as exc:  # noqa: BLE001 - unreadable schemas: inputs pass unconverted
        log.warning("Param schemas of DAG %s could not be read: %s", dag.get("dag_id"), exc)
        return {}
    return {name: types for name, schema in schemas.items() if (types := schema_types(schema))}


def read_declaration(data: Mapping[str, Any]) -> tuple[tuple[WebhookTrigger, ...], str | None]:
    """The triggers a serialized DAG declares, and the error text if its declaration is invalid."""
    dag = data.get("dag", {}) if isinstance(data, Mapping) else {}
    found, value = serialized_dags.decode_param_default(dag.get("params") or (), PARAM_NAME)
    if not found or value is None:
        return (), None
    try:
        return parse_declaration(value), None
    except WebhookDeclarationError as exc:
        return (), str(exc)
    except Exception as exc:  # noqa: BLE001 - a declaration must never break the api-server
        return (), f"{PARAM_NAME}: could not be read ({type(exc).__name__}: {exc})"


class WebhookIndex:
    """Serves lookups from memory; ``refresh`` brings it up to date with the database."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], IndexedDag] = {}
        self._paused: frozenset[str] = frozenset()
        self._invalid: tuple[InvalidDeclaration, ...] = ()
        self._parsed: dict[str, _Parsed] = {}  # dag_id -> declaration of its newest version
        self._fingerprint: Any = None
        self._built_from: Any = None  # (fingerprint, active DAG ids, default namespace) of the routes
        self._refresh_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.loaded_at: float | None = None
        self.last_error: str | None = None

    @classmethod
    def from_triggers(
        cls, declarations: Mapping[str, Any], *, paused: Any = (), filelocs: Mapping[str, str] | None = None,
        input_types: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None,
    ) -> WebhookIndex:
        """An index filled from ``{dag_id: declaration}`` without a database (tests, dry runs).

        A declaration is anything ``parse_declaration`` reads, or a tuple of ``WebhookTrigger``;
        an invalid one is kept as an ``InvalidDeclaration``, as a refresh would. ``paused``
        names the paused DAGs; ``input_types`` the params' types (``{dag_id: {input: ("integer",)}}``).
        The index never refreshes itself.
        """
        index, paused = cls(), set(paused)
        for dag_id, declaration in declarations.items():
            fileloc = (filelocs or {}).get(dag_id)
            if isinstance(declaration, tuple) and all(isinstance(t, WebhookTrigger) for t in declaration):
                triggers, error = declaration, None
            else:
                triggers, error = read_declaration({"dag": {"params": {PARAM_NAME: declaration}}})
            index._parsed[dag_id] = _Parsed("", triggers, fileloc, error, (input_types or {}).get(dag_id, {}))
        index._paused = frozenset(dag_id for dag_id in declarations if dag_id in paused)
        index._rebuild(set(declarations))
        index.loaded_at = time.monotonic()
        return index

    # -- reads (request path) ------------------------------------------------------------------

    def lookup(self, namespace: str, dag_id: str) -> IndexedDag | None:
        return self._routes.get((namespace, dag_id))

    def is_paused(self, dag_id: str) -> bool:
        return dag_id in self._paused

    def entries(self) -> list[IndexedDag]:
        return sorted(self._routes.values(), key=lambda e: (e.namespace, e.dag_id))

    def invalid(self) -> tuple[InvalidDeclaration, ...]:
        return self._invalid

    # -- refresh -------------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Bring the index up to date; return whether the declarations changed."""
        with self._refresh_lock, create_session() as session:
            fingerprint = serialized_dags.serialized_fingerprint(session)
            paused, inactive = serialized_dags.dag_flags(session)
            changed = fingerprint != self._fingerprint
            if changed:
                self._reload(session)
                self._fingerprint = fingerprint
        active = frozenset(self._parsed).difference(inactive)
        self._paused = paused
        # Rebuilding the routes is the refresh's costly part: only when what they are made of changed.
        built_from = (self._fingerprint, active, config.get("default_namespace"))
        if built_from != self._built_from:
            self._rebuild(active)
            self._built_from = built_from
        self.loaded_at = time.monotonic()
        self.last_error = None
        return changed

    def _reload(self, session) -> None:
        heads = serialized_dags.serialized_heads(session)
        stale = [h for h in heads.values() if (p := self._parsed.get(h.dag_id)) is None or p.dag_hash != h.dag_hash]
        parsed = {dag_id: p for dag_id, p in self._parsed.items() if dag_id in heads}
        for head, serialized in self._serialized(session, stale):
            triggers, error = read_declaration(serialized)
            fileloc = (serialized.get("dag") or {}).get("fileloc") if isinstance(serialized, Mapping) else None
            parsed[head.dag_id] = _Parsed(head.dag_hash, triggers, fileloc, error, read_input_types(serialized, triggers))
            if error:
                log.warning("Invalid webhook declaration in DAG %s (%s): %s", head.dag_id, fileloc, error)
        self._parsed = parsed

    @staticmethod
    def _serialized(session, heads: list, batch: int = 100):
        """(head, serialized DAG) pairs, read ``batch`` at a time so that only that many whole
        serialized DAGs are in memory at once: the api-server keeps its peak as resident memory
        (docs/performance.md, "Memory")."""
        for start in range(0, len(heads), batch):
            chunk = heads[start : start + batch]
            data = serialized_dags.serialized_data(session, chunk)
            for head in chunk:
                yield head, data.get(head.row_id, {})

    def _rebuild(self, active: set[str]) -> None:
        default_namespace = config.get("default_namespace")
        routes: dict[tuple[str, str], list[WebhookTrigger]] = {}
        filelocs: dict[str, str | None] = {}
        types: dict[str, Mapping[str, tuple[str, ...]]] = {}
        invalid = []
        for dag_id, parsed in self._parsed.items():
            if dag_id not in active:
                continue
            if parsed.error:
                invalid.append(InvalidDeclaration(dag_id, parsed.fileloc, parsed.error))
            for trigger in parsed.triggers:
                routes.setdefault((trigger.namespace or default_namespace, dag_id), []).append(trigger)
            filelocs[dag_id] = parsed.fileloc
            types[dag_id] = parsed.input_types
        # Swap whole dictionaries: readers on other threads see the old or the new, never half.
        self._routes = {
            (ns, dag_id): IndexedDag(dag_id, ns, tuple(triggers), filelocs.get(dag_id), types.get(dag_id, {}))
            for (ns, dag_id), triggers in routes.items()
        }
        self._invalid = tuple(sorted(invalid, key=lambda i: i.dag_id))

    # -- background refresh --------------------------------------------------------------------

    def ensure_started(self) -> None:
        """Load once (blocking, so the first request is answered right) and start refreshing."""
        if self._thread is not None and self.loaded_at is not None:
            return
        with _START_LOCK:
            if self.loaded_at is None:
                self.refresh()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="webhook-index", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(max(0.1, config.get_float("refresh_interval")))
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - keep serving the last good index
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("Webhook index refresh failed, serving the previous index: %s", self.last_error)


_START_LOCK = threading.Lock()
_INDEX: WebhookIndex | None = None


def get_index() -> WebhookIndex:
    """This process's index, loaded on first use."""
    global _INDEX
    if _INDEX is None:
        with _START_LOCK:
            if _INDEX is None:
                _INDEX = WebhookIndex()
    _INDEX.ensure_started()
    return _INDEX


def loaded_index() -> WebhookIndex | None:
    """This process's index if it is loaded, else None: never blocks (the ASGI event loop asks)."""
    index = _INDEX
    return index if index is not None and index.loaded_at is not None else None

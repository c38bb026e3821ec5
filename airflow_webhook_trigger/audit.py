"""Writing deliveries to Airflow's audit log from a background thread, in batches.

Why not one INSERT per request: the 204 and 404 paths do no database write at all, and one
synchronous write each would cost more than the whole rest of the request (and on SQLite it
would contend with the run-creating writes). So a request only puts a small tuple on a bounded
buffer; one daemon thread per process drains it every ``FLUSH_SECONDS`` or ``BATCH_SIZE``
entries and writes a batch in one transaction. When the buffer is full (the database is slower
than the traffic) entries are dropped and counted, never waited for: an audit row must not
cost a sender a timeout. What is queued is written when the api-server worker shuts down
(``flush_at_shutdown``, from its lifespan: ``http/fastapi_mount.py``) or the process exits.

Wrong-key 404s to a known DAG are not entries: anyone who knows a DAG's URL can send thousands,
and a row each would flood the audit log and fill the buffer that genuine deliveries need. They
are counted per DAG (``count_wrong_key``) and written as ONE summary row per DAG per
``[webhook_trigger] wrong_key_summary_seconds`` (reason ``wrong key``, ``count``, ``first`` and
``last`` in ``extra``), outside the buffer: a flood never costs a genuine delivery its row.

The thread starts on the first entry, i.e. in an api-server worker after its fork; a fork
(``os.register_at_fork``) gives the child a fresh buffer and no thread.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

from airflow_webhook_trigger import config
from airflow_webhook_trigger.airflow import audit_log, metrics

__all__ = ["AuditWriter", "AUDIT", "EVENT", "BATCH_SIZE", "FLUSH_SECONDS", "QUEUE_SIZE"]

log = logging.getLogger(__name__)

EVENT = "webhook"
BATCH_SIZE = 1000
FLUSH_SECONDS = 0.5
QUEUE_SIZE = 10_000
_MAX_REASON = 500
_MAX_OWNER = 500

# (when, namespace, dag_id, trigger_id, run_id, status, outcome, reason, seconds, method)
Entry = tuple[datetime, str, str, "str | None", "str | None", int, str, str, float, str]


def to_row(entry: Entry) -> dict[str, Any]:
    """One queued entry as a ``log`` row: the shape the Webhooks page and the REST API read."""
    when, namespace, dag_id, trigger_id, run_id, status, outcome, reason, seconds, method = entry
    owner = f"webhook:{namespace}/{trigger_id}" if trigger_id else f"webhook:{namespace}"
    extra = {
        "namespace": namespace,
        "trigger": trigger_id,
        "status": status,
        "outcome": outcome,
        "reason": reason[:_MAX_REASON],
        "duration_ms": round(seconds * 1000, 3),
        "method": method,
    }
    return {"event": EVENT, "dag_id": dag_id, "run_id": run_id, "owner": owner[:_MAX_OWNER],
            "extra": json.dumps(extra, ensure_ascii=False), "when": when}


WRONG_KEY = "wrong key"


def summary_row(namespace: str, dag_id: str, count: int, first: datetime, last: datetime) -> dict[str, Any]:
    """The one row that stands for ``count`` wrong-key 404s to a DAG between ``first`` and ``last``."""
    extra = {"namespace": namespace, "trigger": None, "status": 404, "outcome": "404", "reason": WRONG_KEY,
             "count": count, "first": first.isoformat(), "last": last.isoformat(), "method": None}
    return {"event": EVENT, "dag_id": dag_id, "run_id": None, "owner": f"webhook:{namespace}"[:_MAX_OWNER],
            "extra": json.dumps(extra, ensure_ascii=False), "when": last}


def _count_dropped() -> None:
    try:
        metrics.stats().incr("webhook_trigger.audit_dropped")
    except Exception:  # noqa: BLE001 - metrics are best effort
        pass


class AuditWriter:
    """A bounded buffer of audit entries and the thread that writes them in batches.

    A request only appends to a ``deque`` (atomic, no lock, no thread wake-up except for the
    first entry of a batch), so the writer thread never competes with requests entry by entry.
    """

    def __init__(self, write=None, *, batch_size: int = BATCH_SIZE, flush_seconds: float = FLUSH_SECONDS,
                 queue_size: int = QUEUE_SIZE) -> None:
        self._write = write  # None: audit_log.write_audit_log (looked up late, for tests)
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.queue_size = queue_size
        self._reset()

    def _reset(self) -> None:
        self._items: deque[Entry] = deque()
        self._nonempty = threading.Event()  # set by the first entry after a drain
        self._full = threading.Event()  # set when a whole batch is waiting
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._tally: dict[tuple[str, str], list] = {}  # (namespace, dag_id) -> [count, first, last, since]
        self._tally_lock = threading.Lock()
        self.dropped = 0  # entries refused because the buffer was full
        self.failed = 0  # entries lost because their batch could not be written
        self.written = 0

    def add(self, entry: Entry) -> bool:
        """Buffer one entry without ever blocking; False (and counted) when the buffer is full."""
        items = self._items
        if len(items) >= self.queue_size:
            self.dropped += 1
            _count_dropped()
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("Webhook audit log buffer is full (%d entries): %d entries dropped so far",
                            self.queue_size, self.dropped)
            return False
        items.append(entry)
        size = len(items)
        if size == 1:
            self._nonempty.set()
        elif size >= self.batch_size:
            self._full.set()
        if self._thread is None:
            self._start()
        return True

    def count_wrong_key(self, namespace: str, dag_id: str, when: datetime) -> None:
        """Count one wrong-key 404 to a known DAG; its summary row is written once its window ends.
        Bounded: one tally per known DAG (only DAGs in the index get here)."""
        key = (namespace, dag_id)
        with self._tally_lock:
            tally = self._tally.get(key)
            if tally is not None:
                tally[0] += 1
                tally[2] = when
                return
            self._tally[key] = [1, when, when, time.monotonic()]
        self._nonempty.set()  # the thread learns when this window ends
        if self._thread is None:
            self._start()

    def _summaries_due(self, everything: bool = False) -> list[dict[str, Any]]:
        window = config.get_float("wrong_key_summary_seconds")
        now = time.monotonic()
        with self._tally_lock:
            due = [key for key, tally in self._tally.items() if everything or now - tally[3] >= window]
            taken = [(key, self._tally.pop(key)) for key in due]
        return [summary_row(ns, dag_id, count, first, last) for (ns, dag_id), (count, first, last, _) in taken]

    def _next_summary_in(self) -> float | None:
        """Seconds until the oldest open window ends (None: no wrong keys counted)."""
        with self._tally_lock:
            if not self._tally:
                return None
            oldest = min(tally[3] for tally in self._tally.values())
        return max(0.05, oldest + config.get_float("wrong_key_summary_seconds") - time.monotonic())

    def _write_summaries(self, everything: bool = False) -> None:
        rows = self._summaries_due(everything)
        if rows:
            self._write_rows(rows)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="webhook-audit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            woken = self._nonempty.wait(self._next_summary_in())
            if woken:
                self._nonempty.clear()
                if self._items:
                    self._full.wait(self.flush_seconds)  # gather a batch, at most flush_seconds
                    self._full.clear()
                    self._drain(len(self._items))
            self._write_summaries()
            if self._items:  # arrived while writing: they start the next gathering
                self._nonempty.set()

    def _drain(self, count: int | None = None) -> None:
        """Write ``count`` entries (None: until the buffer is empty), in batches of ``batch_size``.

        The thread writes only what was there when it woke: chasing entries that arrive while a
        batch is being written would write them a few at a time, one transaction each
        (docs/performance.md, "Audit log").
        """
        items = self._items
        left = count
        while items and (left is None or left > 0):
            size = self.batch_size if left is None else min(self.batch_size, left)
            batch = []
            try:
                while len(batch) < size:
                    batch.append(items.popleft())
            except IndexError:  # empty (another thread may drain at the same time, at exit)
                pass
            if left is not None:
                left -= len(batch)
            if batch:
                self._write_batch(batch)

    def _write_batch(self, batch: list[Entry]) -> None:
        self._write_rows([to_row(entry) for entry in batch])

    def _write_rows(self, rows: list[dict[str, Any]]) -> None:
        write = self._write
        if write is None:
            write = audit_log.write_audit_log
        with self._write_lock:
            try:
                write(rows)
                self.written += len(rows)
            except Exception as exc:  # noqa: BLE001 - the audit log must never break the server
                self.failed += len(rows)
                first_line = (str(exc).splitlines() or [""])[0][:300]
                log.warning("Could not write %d webhook audit entries (%s: %s); they are lost",
                            len(rows), type(exc).__name__, first_line)

    def flush(self) -> None:
        """Write everything buffered now, wrong-key summaries included, from the calling thread
        (at exit, and in tests)."""
        self._drain()
        self._write_summaries(everything=True)

    def pending(self) -> int:
        return len(self._items)

    def holds_anything(self) -> bool:
        """Whether entries or wrong-key counts are waiting to be written."""
        with self._tally_lock:
            counted = bool(self._tally)
        return counted or bool(self._items)

    def discard(self) -> int:
        """Forget what is buffered and counted, unwritten; return how many entries (a process
        without Airflow's database, such as a test runner that called the app in process)."""
        with self._tally_lock:
            self._tally.clear()
        dropped = len(self._items)
        self._items.clear()
        return dropped


AUDIT = AuditWriter()


def flush_at_shutdown() -> None:
    """Write what is still buffered when the process ends: called by the api-server worker's
    lifespan shutdown (``http/fastapi_mount.py``; uvicorn ends a worker by re-raising SIGTERM, so
    its atexit handlers never run) and at exit elsewhere. The ORM is opened again if Airflow
    already disposed it (its gunicorn ``worker_exit`` hook does; ``audit_log.write_audit_log``)."""
    if AUDIT.holds_anything():  # else no database connection is opened for nothing
        AUDIT.flush()


atexit.register(flush_at_shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=AUDIT._reset)

"""The audit writer: batches, never blocks, drops and counts when full, rows of the agreed shape."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone

from airflow_webhook_trigger.audit import AuditWriter, to_row
from airflow_webhook_trigger.dispatch import Outcome
from airflow_webhook_trigger.request import WebhookRequest

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _entry(i: int = 0, trigger: str | None = "github"):
    return (NOW, "ci", "build", trigger, f"webhook__{i}", 200, "triggered", "run created", 0.0123, "POST")


def test_row_shape():
    row = to_row(_entry())
    assert row["event"] == "webhook" and row["dag_id"] == "build" and row["run_id"] == "webhook__0"
    assert row["owner"] == "webhook:ci/github" and row["when"] == NOW
    assert json.loads(row["extra"]) == {"namespace": "ci", "trigger": "github", "status": 200, "outcome": "triggered",
                                        "reason": "run created", "duration_ms": 12.3, "method": "POST"}
    assert to_row(_entry(trigger=None))["owner"] == "webhook:ci"


def test_batches_of_at_most_batch_size_written_by_the_thread():
    batches: list[list] = []
    writer = AuditWriter(batches.append, batch_size=10, flush_seconds=0.05)
    for i in range(35):
        assert writer.add(_entry(i))
    deadline = time.monotonic() + 10
    while writer.written < 35 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert writer.written == 35 and max(len(b) for b in batches) <= 10
    assert [r["run_id"] for b in batches for r in b] == [f"webhook__{i}" for i in range(35)]


def test_the_thread_writes_what_it_found_and_leaves_later_arrivals_for_the_next_batch():
    """Entries arriving while a batch is written wait for the next gathering: chasing them would
    write them a few at a time, one transaction each (what made the audit thread expensive)."""
    batches: list[list] = []
    writer = AuditWriter(batch_size=10, flush_seconds=0.05)

    def write(rows):
        batches.append(rows)
        if len(batches) == 1:  # requests keep coming while the first batch is written
            for i in range(3):
                writer.add(_entry(100 + i))

    writer._write = write
    writer._thread = object()  # no thread: drive it by hand
    for i in range(5):
        writer.add(_entry(i))
    writer._drain(writer.pending())
    assert [len(b) for b in batches] == [5] and writer.pending() == 3
    writer.flush()  # at exit: everything
    assert [len(b) for b in batches] == [5, 3] and writer.pending() == 0


def test_a_full_buffer_drops_and_counts_instead_of_blocking():
    release = threading.Event()  # the "database" hangs until the end of the test
    writer = AuditWriter(lambda rows: release.wait(120), batch_size=2, flush_seconds=0.01, queue_size=5)
    started = time.monotonic()
    accepted = [writer.add(_entry(i)) for i in range(50)]
    # a blocking add would wait for the hung write (120 s); the bound is generous for a loaded machine
    assert time.monotonic() - started < 60
    assert writer.dropped == accepted.count(False) > 0 and accepted.count(True) >= 5
    release.set()


def test_a_failing_database_loses_the_batch_but_never_raises():
    def broken(rows):
        raise RuntimeError("database is down")

    writer = AuditWriter(broken, batch_size=5, flush_seconds=0.01)
    writer._thread = object()  # no thread: flush by hand
    for i in range(7):
        writer.add(_entry(i))
    writer.flush()
    assert (writer.failed, writer.written, writer.pending()) == (7, 0, 0)


def test_observe_records_known_dags_only(monkeypatch):
    from airflow_webhook_trigger import audit, observe

    rows: list = []
    writer = AuditWriter(rows.extend)
    writer._thread = object()
    monkeypatch.setattr(observe, "AUDIT", writer)
    request = WebhookRequest("POST")
    observe.delivery(request, "ns", "nope", Outcome(404, reason="webhook not found"), 0.001)
    observe.delivery(request, "ns", "d", Outcome(404, reason="no trigger with this key", dag_id="d"), 0.001)
    created = Outcome(200, reason="run created", dag_id="d", trigger_id="t", run_id="r")
    observe.delivery(request, "ns", "d", created, 0.002)
    writer.flush()  # the genuine row first; the wrong key only as a summary, written when flushed
    assert [(r["dag_id"], r["owner"], json.loads(r["extra"])["outcome"]) for r in rows] == [
        ("d", "webhook:ns/t", "triggered"), ("d", "webhook:ns", "404")]
    assert json.loads(rows[1]["extra"])["count"] == 1 and json.loads(rows[1]["extra"])["reason"] == "wrong key"
    assert audit.AUDIT is not writer


def test_a_wrong_key_flood_is_one_summary_row_per_dag_and_takes_no_buffer_place(monkeypatch):
    from airflow_webhook_trigger import observe
    from airflow_webhook_trigger.ui.deliveries import from_row

    rows: list = []
    writer = AuditWriter(rows.extend, queue_size=5)
    writer._thread = object()
    monkeypatch.setattr(observe, "AUDIT", writer)
    request = WebhookRequest("POST")
    for dag in ("d", "e"):
        for _ in range(2000):
            observe.delivery(request, "ns", dag, Outcome(404, reason="no trigger with this key", dag_id=dag), 0.001)
    assert writer.pending() == 0 and writer.dropped == 0  # no place taken in the bounded buffer
    for i in range(5):
        assert writer.add(_entry(i))  # genuine entries still fit, all of them
    assert writer._summaries_due() == []  # the window (60 s) is still open
    writer.flush()
    summaries = [json.loads(r["extra"]) for r in rows if r["run_id"] is None]
    assert [(s["count"], s["reason"], s["status"]) for s in summaries] == [(2000, "wrong key", 404)] * 2
    assert len(rows) == 7
    delivery = from_row(1, None, "d", None, "webhook:ns", rows[-1]["extra"])
    assert delivery.count == 2000 and delivery.status == 404 and delivery.reason.startswith("wrong key: 2000 requests")


def test_a_summary_is_written_once_its_window_ends(monkeypatch):
    from airflow_webhook_trigger import audit

    monkeypatch.setattr(audit.config, "get_float", lambda name: 0.2)
    rows: list = []
    writer = AuditWriter(rows.extend)
    for _ in range(10):
        writer.count_wrong_key("ns", "d", NOW)
    deadline = time.monotonic() + 10
    while not rows and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [json.loads(r["extra"])["count"] for r in rows] == [10]


def test_discard_forgets_buffered_entries_and_wrong_key_counts_unwritten():
    rows: list = []
    writer = AuditWriter(rows.extend, queue_size=5)
    writer._items.append(("entry",))
    writer._tally[("ns", "dag")] = [3, None, None, 0.0]
    assert writer.discard() == 1
    writer.flush()
    assert rows == [] and writer.pending() == 0

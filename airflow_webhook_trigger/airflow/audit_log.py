"""Rows of Airflow's audit log (table ``log``, Browse -> Audit Log): written in batches, read back
for the Webhooks page."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select

from airflow_webhook_trigger.airflow.database import create_session, reopen_if_disposed

__all__ = ["write_audit_log", "read_audit_log"]

_COLUMNS = ("dttm", "event", "dag_id", "run_id", "owner", "extra")


def _log_model():
    from airflow.models.log import Log  # the ORM: on use only

    return Log


def write_audit_log(entries: Iterable[dict[str, Any]]) -> int:
    """Add rows in one transaction; return how many.

    Each entry: ``event``, ``dag_id``, ``run_id``, ``owner``, ``extra`` (text) and ``when``
    (the delivery's time, an aware datetime, kept as the row's ``dttm`` although the row is
    written later).

    On SQLite, the driver's own ``executemany`` rather than an ORM insert: at thousands of 204s
    a second this runs in the api-server next to the requests, and Python binding each row
    (Airflow's ``UtcDateTime`` converts through pendulum) costs about as much as SQLite itself
    (docs/performance.md). ``dttm`` is prepared as ``UtcDateTime`` would (UTC) and then by the
    dialect's own bind processor. Other databases get the Core insert, which SQLAlchemy sends as
    multi-row ``VALUES`` batches, where a driver's ``executemany`` (psycopg2) would make one
    round trip per row.
    """
    entries = list(entries)
    if not entries:
        return 0
    reopen_if_disposed()  # the last batch of a worker may come after Airflow disposed its ORM
    table = _log_model().__table__
    with create_session() as session:
        connection = session.connection()
        dialect = connection.dialect
        if dialect.name != "sqlite":
            session.execute(insert(table), [{"dttm": e.get("when"), **{c: e.get(c) for c in _COLUMNS[1:]}}
                                            for e in entries])
            return len(entries)
        column_type = table.c.dttm.type  # UtcDateTime: a decorator over the dialect's TIMESTAMP
        impl = column_type.load_dialect_impl(dialect) if hasattr(column_type, "load_dialect_impl") else column_type
        to_db = impl.dialect_impl(dialect).bind_processor(dialect)

        def when(value: datetime | None) -> Any:
            if value is None:
                return None
            value = value.astimezone(timezone.utc)
            return to_db(value) if to_db is not None else value

        rows = [(when(e.get("when")), e["event"], e["dag_id"], e.get("run_id"), e["owner"], e["extra"]) for e in entries]
        sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(_COLUMNS)}) "
               f"VALUES ({', '.join(['?'] * len(_COLUMNS))})")
        connection.exec_driver_sql(sql, rows)
    return len(rows)


def read_audit_log(event: str, dag_ids: Iterable[str], limit: int) -> list[tuple]:
    """The newest ``limit`` rows of ``event`` for ``dag_ids``, newest first, in one query:
    ``(id, dttm, dag_id, run_id, owner, extra)`` each."""
    log = _log_model()
    query = (
        select(log.id, log.dttm, log.dag_id, log.run_id, log.owner, log.extra)
        .where(log.event == event, log.dag_id.in_(list(dag_ids)))
        .order_by(log.dttm.desc(), log.id.desc())
        .limit(limit)
    )
    with create_session() as session:
        return [tuple(row) for row in session.execute(query).all()]

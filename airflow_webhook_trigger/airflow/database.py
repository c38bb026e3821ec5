"""Sessions on Airflow's metadata database, and what a database error means for a sender.

A webhook sender can only act on two answers when the database fails: retry later (503 with
``Retry-After``) or give up. ``is_database_unavailable`` tells the first kind apart, by the
exception's class and never by text alone, since request data can end up in the message of an
unrelated error (``int('database is locked')``).
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

__all__ = [
    "DatabaseConflict",
    "create_session",
    "is_database_unavailable",
    "is_unique_violation",
    "raise_if_database_unavailable",
    "reopen_if_disposed",
]

# What SQLite says when another connection holds the write lock longer than the busy timeout
# (Python's sqlite3 waits 5 s by default; Airflow sets no other), or the file cannot be reached.
# Its OperationalError also means "no such table" and other faults a retry will not cure.
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "database schema is locked",
                       "unable to open database file", "disk i/o error")


class DatabaseConflict(Exception):
    """A write failed on a constraint other than the run's own id (e.g. the DAG changed meanwhile)."""


def create_session():
    """A context manager giving an ORM session that commits on success and rolls back on error."""
    from airflow.utils.session import create_session as airflow_session  # loads Airflow's settings: on use only

    return airflow_session()


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database is busy, locked or down" (answer 503, sender retries)."""
    if isinstance(exc, (PoolTimeout, DatabaseConflict)):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(driver_error, sqlite3.Error):
        text = str(driver_error).lower()
        return isinstance(driver_error, sqlite3.OperationalError) and any(t in text for t in _SQLITE_UNAVAILABLE)
    # PostgreSQL and MySQL drivers raise OperationalError for a lost, refused or overloaded
    # connection, a deadlock or a lock/statement timeout: all cured by retrying later.
    return isinstance(exc, OperationalError)


def is_unique_violation(exc: BaseException) -> bool:
    return isinstance(exc, IntegrityError)


def raise_if_database_unavailable() -> None:
    """One ``SELECT 1``: raises the database's own error when it cannot be reached."""
    with create_session() as session:
        session.execute(text("SELECT 1"))


def reopen_if_disposed() -> None:
    """Configure Airflow's ORM again when it was disposed, so a last write can still be made.

    Why: Airflow's api-server (gunicorn mode) disposes the ORM in its ``worker_exit`` hook, before
    the worker's ``atexit`` handlers run; without this the audit rows still buffered at exit were
    lost with "Session must be set before!".
    """
    from airflow import settings  # loads Airflow's settings: on use only

    if getattr(settings, "Session", None) is None:
        settings.configure_orm()

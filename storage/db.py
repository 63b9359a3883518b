"""SQLAlchemy engine and session factory for PostgreSQL (psycopg 3) or the embedded SQLite file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import StorageUnavailable

log = logging.getLogger(__name__)

_READ_ONLY = "atelier_read_only"
DATABASE_UNAVAILABLE = "The database is not answering right now. Please try again shortly."


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, parsed.database)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )
    event.listen(engine, "handle_error", _unavailable_database)
    return engine


def _unavailable_database(context: ExceptionContext) -> None:
    """A server that cannot be reached, or that dropped the connection, is said in plain words
    wherever it was met (a login, a limit check, a page), as the object store's outages are.

    Other errors (a constraint, a bad statement) stay as they are. A failed pre-ping is the
    pool's to handle: it connects afresh, and a failure to connect comes back here."""
    if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, OperationalError):
        return
    if context.connection is None or context.is_disconnect:
        log.error("database unavailable", exc_info=context.sqlalchemy_exception)
        raise StorageUnavailable(DATABASE_UNAVAILABLE) from context.sqlalchemy_exception


def _create_sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (see below) instead of the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # SQLite has one writer. A deferred transaction that later writes can fail at once with
        # "database is locked" instead of waiting; taking the write lock up front makes
        # concurrent requests queue on busy_timeout and makes read-then-write steps atomic.
        # Sessions that only read (see `reading`) need no lock: in WAL mode they see a
        # consistent snapshot without waiting for, or holding up, anyone.
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads only, e.g. the session check every page run makes: on SQLite it
    does not queue behind writers. Writing through it is a mistake SQLite may refuse."""
    with factory() as session:
        session.connection(execution_options={_READ_ONLY: True})
        yield session


@contextmanager
def reading_rows(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """`reading` without an ORM session, for a read of plain columns on every page run: the
    session machinery costs more than the query itself (~0.5 ms a run)."""
    engine: Engine = factory.kw["bind"]
    with engine.connect() as connection:
        connection.execution_options(**{_READ_ONLY: True})
        yield connection


def lock_for_transaction(session: Session, name: str) -> None:
    """Serialise transactions that share `name` until the current one ends.

    PostgreSQL takes a transaction-scoped advisory lock; SQLite already serialises writers
    (every transaction begins IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))

"""The catalog's database engine from one URL: SQLite on a laptop, PostgreSQL (psycopg 3) in production.

SQLite runs in WAL mode with a busy timeout, so the gateway and indexer processes share one
file: readers never wait for the writer, and writers queue for the lock instead of failing.
A writing transaction takes the lock when it begins (`BEGIN IMMEDIATE`): two deferred
transactions that both read and then write would deadlock, and SQLite would fail one at once
instead of waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

BUSY_TIMEOUT_MS = 30_000
_WRITE = "catalog_write"
_READ_ONE = "catalog_read_one"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for another backend or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def open_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
    if parsed.get_backend_name() != "sqlite":
        raise ValueError(f"CATALOG_URL: unsupported database {parsed.drivername!r} (sqlite or postgresql)")
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions begin below, not in the driver
        cursor = dbapi_connection.cursor()
        if path is not None:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(_READ_ONE):  # one statement: SQLite reads it from one snapshot anyway
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE) else "BEGIN")

    return engine


def upsert(dialect: str, model: Any) -> Any:
    """`INSERT … ON CONFLICT` of the backend in use."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


class Sessions:
    """Short sessions on one engine: one per catalog operation, committed when it ends."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})
        self._one_read = engine.execution_options(**{_READ_ONE: True})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A plain connection for the hot reads (rows, no ORM objects). On SQLite no explicit
        transaction is begun: each statement reads a consistent snapshot of its own, which is all
        these reads need (a page's hydration in one statement; a keyword query and the tags of
        its hits, where a tag edited in between changes nothing that matters)."""
        with self._one_read.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Session]:
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

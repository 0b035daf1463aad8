"""Migrations: applied at every gateway and indexer start-up and by `python -m services.common.catalog
migrate`. Start-ups that race take turns: a PostgreSQL advisory lock, or a lock file beside the
SQLite database, held while one of them upgrades; the others then find nothing left to do."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from services.common.catalog.engine import sqlite_path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK = 0x7469_6D61_6E68  # "timanh": one advisory lock id for every catalog migration


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path.with_name(path.name + ".migrate.lock"), "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection on which this process alone migrates."""
    path = sqlite_path(str(engine.url))
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK})
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK})
                conn.commit()
    elif path is not None:
        with _file_lock(path), engine.connect() as conn:
            yield conn
    else:
        with engine.connect() as conn:
            yield conn


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision (from empty, or from any older one)."""
    with _locked(engine) as conn:
        command.upgrade(alembic_config(conn), "head")
        conn.commit()


def pending(engine: Engine) -> bool:
    """Whether the database is behind the newest revision."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() != head


def new_revision(engine: Engine, message: str) -> None:
    """Write a revision of what the models add to the newest one (autogenerate, against a
    database at head): what a change to `models.py` needs before it can ship."""
    with engine.connect() as conn:
        command.revision(alembic_config(conn), message=message, autogenerate=True)

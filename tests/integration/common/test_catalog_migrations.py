"""The catalog's migrations: from an empty database to the models exactly, on both backends, and
start-ups that migrate at the same moment take turns."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from deploy.harness.postgres import database
from services.common.catalog.engine import open_engine
from services.common.catalog.migrate import pending, upgrade
from services.common.catalog.models import Base, outside_models
from tests.conftest import CATALOG_BACKENDS

REPO = Path(__file__).resolve().parents[3]
# The keyword index's FTS5 tables and expression index are made by hand in its migration.
COMPARE = {"include_name": lambda name, type_, parents: not outside_models(name)}


@pytest.fixture(params=CATALOG_BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, of this test alone."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with database(request.getfixturevalue("postgres_admin"), "timanh_migrate") as url:
        yield url


def test_migrations_from_empty_match_the_models(empty_url: str) -> None:
    engine = open_engine(empty_url)
    try:
        assert pending(engine)
        upgrade(engine)
        assert not pending(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts=COMPARE), Base.metadata) == []
            tables = {t for t in inspect(conn).get_table_names() if not outside_models(t)}
        assert tables == {*Base.metadata.tables, "alembic_version"}
        upgrade(engine)  # nothing left to do: a second start-up changes nothing
    finally:
        engine.dispose()


def test_concurrent_start_ups_migrate_once(empty_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CATALOG_URL": empty_url,
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(tmp_path / "storage"),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "services.common.catalog", "migrate"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outputs
    engine = open_engine(empty_url)
    try:
        assert not pending(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts=COMPARE), Base.metadata) == []
    finally:
        engine.dispose()

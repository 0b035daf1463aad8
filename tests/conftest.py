"""Fixtures shared by every suite: offline model hubs, real Redis, a real S3 server, the catalog
database on both its backends (a SQLite file, a real PostgreSQL server)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TIMANH_DEV", "1")  # moto and the test keys use laptop defaults

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from deploy.harness.postgres import database, postgres_server
from deploy.harness.servers import redis_answers, redis_server
from deploy.stack import free_port
from imaging.ocr import ocr_available
from services.common.catalog import Catalog, open_catalog
from services.common.settings import CacheSettings, CatalogSettings, StorageSettings
from services.common.storage import open_store

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every S3 request

SHARED_REDIS = "redis://127.0.0.1:6379/0"


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests run last: Playwright's sync API keeps an event loop running in the main
    # thread for the rest of the session, which asyncio-based tests cannot share.
    items.sort(key=lambda item: "/tests/e2e/" in str(item.path))
    if any("gpu" in item.keywords for item in items) and not _cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA device")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The machine's Redis when one listens on 6379, else a private redis-server."""
    if redis_answers(SHARED_REDIS):
        yield SHARED_REDIS
        return
    with redis_server() as (url, _):
        yield url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server mode over real HTTP: the same minio SDK calls that talk to MinIO."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(s3_endpoint: str) -> StorageSettings:
    """Storage settings on a bucket of this test's own."""
    return StorageSettings(backend="s3", s3_endpoint=s3_endpoint, s3_bucket=f"t-{uuid.uuid4().hex[:16]}")


@pytest.fixture
def cache_settings(redis_url: str) -> CacheSettings:
    return CacheSettings(REDIS_URL=redis_url)


CATALOG_BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[str]:
    """The admin URL of a real PostgreSQL server (the machine's, else a private one)."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_catalog_url(postgres_admin: str) -> Iterator[str]:
    """A database of this test session's own, migrated once, dropped at the end."""
    with database(postgres_admin, "timanh_test") as url:
        yield url


@pytest.fixture(params=CATALOG_BACKENDS)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each catalog test runs on both backends: a SQLite file of its own, and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    url: str = request.getfixturevalue("postgres_catalog_url")
    return url


@pytest.fixture
def local_catalog(tmp_path: Path) -> Iterator[Catalog]:
    """A catalog on local storage and a SQLite file, for tests about something else."""
    store_settings = StorageSettings(backend="local", local_root=tmp_path / "storage")
    catalog = open_catalog(
        CatalogSettings(url=f"sqlite:///{tmp_path / 'catalog.db'}"), open_store(store_settings)
    )
    try:
        yield catalog
    finally:
        catalog.sessions.dispose()


@pytest.fixture(scope="session")
def tesseract() -> None:
    """Tesseract with its Vietnamese model; a test that needs it fails without it (never skips)."""
    if not ocr_available("vie"):
        pytest.fail(
            "tesseract-ocr-vie is missing: apt-get install tesseract-ocr tesseract-ocr-vie (CI installs them)"
        )

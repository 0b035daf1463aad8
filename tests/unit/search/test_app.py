"""The search app in-process over an empty local store: its routes get what the lifespan built."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import faiss
import pytest
from fastapi.testclient import TestClient

from services.common.settings import CacheSettings, StorageSettings
from services.search.app import create_app
from services.search.settings import SearchSettings

MAX_BODY = 4096


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = SearchSettings(
        storage=StorageSettings(backend="local", local_root=tmp_path),
        cache=CacheSettings(REDIS_URL=None),
        shard_count=4,
        shards=[1, 3],
        max_request_bytes=MAX_BODY,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def test_shards_come_from_the_settings(client: TestClient) -> None:
    assert client.get("/v1/shards").json() == {"shard_count": 4, "shards": [1, 3]}


def test_a_body_over_the_configured_limit_is_a_413(client: TestClient) -> None:
    small = {"vectors": [[0.5] * 8], "k": 3}
    assert client.post("/v1/search", json=small).status_code == 200
    big = {"vectors": [[0.5] * 8] * 200, "k": 3}  # about 8 KB of JSON
    resp = client.post("/v1/search", json=big)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


def test_faiss_threads_reach_the_search_threads(tmp_path: Path) -> None:
    """OpenMP counts are per OS thread: the setting must be made in the threads FAISS searches on."""
    default = faiss.omp_get_max_threads()
    wanted = 1 if default > 1 else 2
    settings = SearchSettings(
        storage=StorageSettings(backend="local", local_root=tmp_path),
        cache=CacheSettings(REDIS_URL=None),
        faiss_threads=wanted,
    )
    with TestClient(create_app(settings)) as c:
        executor = c.app.state.runtime.engine.executor
        counts = {executor.submit(faiss.omp_get_max_threads).result() for _ in range(8)}
    assert counts == {wanted}

"""Filtered search through the search service's HTTP API: two replicas as real processes over S3 and Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgpack
import numpy as np
import pytest

from deploy.harness.ready import wait_ready
from deploy.stack import Ports, Stack, service_specs
from services.common.clients.search import SearchClient, encode_search
from services.common.index_signals import RedisSignals, redis_namespace
from services.common.schemas.search import MAX_INCLUDE_IDS, SEARCH_MSGPACK, SearchParams, SearchRequest
from services.common.settings import StorageSettings
from services.common.storage import open_store
from services.indexer.locks import FileLocks
from services.indexer.publisher import BuildConfig, Publisher
from tests.support.index_data import clustered, exact_top_k, ids_for, write_batches
from tests.support.index_stack import REPO, new_bucket

pytestmark = pytest.mark.slow

N, QUERIES, K = 2400, 4, 10
# One collection per index type the service serves approximately without a filter.
COLLECTIONS = {"flat": "Flat", "hnsw": "HNSW32", "ivf": "IVF16,Flat"}


@dataclass
class Replicas:
    urls: list[str]
    x: np.ndarray
    ids: list[str]
    q: np.ndarray


async def _publish(
    storage: StorageSettings, redis_url: str, tmp: Path, x: np.ndarray, ids: list[str]
) -> None:
    store = open_store(storage)
    signals = RedisSignals(redis_url, redis_namespace(storage))
    try:
        for cid, index_type in COLLECTIONS.items():
            cfg = BuildConfig(shard_count=4, index_type=index_type)
            publisher = Publisher(store, signals, FileLocks(tmp / cid), cfg)
            write_batches(store, cid, [f"{cid}-{i}" for i in ids[:-200]], x[:-200])
            await publisher.publish(cid)
            write_batches(store, cid, [f"{cid}-{i}" for i in ids[-200:]], x[-200:], tag="c")  # a delta
            await publisher.publish(cid)
    finally:
        await signals.aclose()


@pytest.fixture(scope="module")
def replicas(
    s3_endpoint: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    bucket = new_bucket()
    storage = StorageSettings(backend="s3", s3_endpoint=s3_endpoint, s3_bucket=bucket)
    data = clustered(N + QUERIES, seed=7)
    x, q, ids = data[:N], data[N:], ids_for(N)
    asyncio.run(_publish(storage, redis_url, tmp_path_factory.mktemp("locks"), x, ids))
    env = {
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": bucket,
        "REDIS_URL": redis_url,
        "SEARCH_FAISS_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    specs = [
        s
        for s in service_specs(Ports.free(), env, search_shards=[[0, 1], [2, 3]], shard_count=4)
        if s.name.startswith("search")
    ]
    with Stack(specs, cwd=str(REPO), echo=False).running(timeout_s=120):
        for spec in specs:
            wait_ready(spec.url)
        yield Replicas([s.url for s in specs], x, ids, q)


async def _merged(urls: list[str], q: np.ndarray, params: SearchParams) -> tuple[list[list[str]], int]:
    """The gateway's fan-out through the typed client (msgpack): every replica's hits merged by score."""
    merged: list[list[tuple[float, str]]] = [[] for _ in range(len(q))]
    candidates = 0
    for url in urls:
        client = SearchClient(url, 30)
        try:
            resp = await client.search_vectors(q, params)
        finally:
            await client.aclose()
        candidates += resp.total_candidates
        for i, hits in enumerate(resp.results):
            merged[i] += [(h.score, h.image_id) for h in hits]
    return [
        [iid for _, iid in sorted(m, key=lambda h: (-h[0], h[1]))[: params.k]] for m in merged
    ], candidates


@pytest.mark.parametrize("cid", sorted(COLLECTIONS))
@pytest.mark.parametrize("n_allowed", [3, 25, 400])
async def test_a_filtered_search_is_exact_search_over_the_allowed_images(
    replicas: Replicas, cid: str, n_allowed: int
) -> None:
    rng = np.random.default_rng(n_allowed)
    rows = sorted(rng.choice(N, n_allowed, replace=False))
    allowed = [f"{cid}-{replicas.ids[r]}" for r in rows]
    params = SearchParams(collection_ids=[cid], k=K, include_ids=[*allowed, f"{cid}-unknown"])
    got, candidates = await _merged(replicas.urls, replicas.q, params)
    assert candidates == n_allowed  # the unknown id is ignored
    assert got == exact_top_k(replicas.x[rows], allowed, replicas.q, K)
    assert all(len(row) == min(K, n_allowed) for row in got)


async def test_json_bodies_filter_the_same_way(replicas: Replicas) -> None:
    allowed = [f"hnsw-{i}" for i in replicas.ids[::97]]
    body = SearchRequest(vectors=replicas.q.tolist(), collection_ids=["hnsw"], k=K, include_ids=allowed)
    hits: list[list[tuple[float, str]]] = [[] for _ in range(QUERIES)]
    for url in replicas.urls:
        resp = httpx.post(url + "/v1/search", content=body.model_dump_json(), timeout=30)
        assert resp.status_code == 200, resp.text
        for i, row in enumerate(resp.json()["results"]):
            hits[i] += [(h["score"], h["image_id"]) for h in row]
    got = [[iid for _, iid in sorted(row, key=lambda h: (-h[0], h[1]))[:K]] for row in hits]
    assert got == exact_top_k(replicas.x[::97], allowed, replicas.q, K)


async def test_the_largest_allowed_list_is_served_and_one_more_is_a_clear_422(replicas: Replicas) -> None:
    many = [f"flat-{i}" for i in replicas.ids] + [f"absent-{i}" for i in range(MAX_INCLUDE_IDS - N)]
    params = SearchParams(collection_ids=["flat"], k=K, include_ids=many)
    got, candidates = await _merged(replicas.urls, replicas.q[:1], params)
    assert candidates == N
    assert got == exact_top_k(replicas.x, [f"flat-{i}" for i in replicas.ids], replicas.q[:1], K)

    over = {"params": {"collection_ids": ["flat"], "k": K, "include_ids": [*many, "one-more"]}}
    body = msgpack.unpackb(encode_search(replicas.q[:1], SearchParams()), raw=False)
    packed = msgpack.packb({**body, **over}, use_bin_type=True)
    for content, ctype in (
        (packed, SEARCH_MSGPACK),
        (json.dumps({"vectors": replicas.q[:1].tolist(), **over["params"]}), "application/json"),
    ):
        resp = httpx.post(
            replicas.urls[0] + "/v1/search", content=content, headers={"Content-Type": ctype}, timeout=30
        )
        assert resp.status_code == 422
        error = resp.json()["error"]
        assert error["code"] == "too_many_include_ids"
        assert error["details"] == {"max_include_ids": MAX_INCLUDE_IDS}
        assert len(resp.content) < 2000  # the refused list is not echoed back

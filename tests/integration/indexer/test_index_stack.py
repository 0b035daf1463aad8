"""The index across processes: 2 indexers, 2 search replicas over 4 shards, real Redis and S3."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest

from deploy.harness.ready import wait_ready
from deploy.stack import Stack
from services.common.catalog import Catalog
from services.common.clients.indexer import IndexerClient
from services.common.index_signals import IndexEvent, RedisSignals, redis_namespace
from services.common.schemas.indexer import JobRequest, JobStatus, ObjectsSource
from services.common.schemas.search import SearchParams
from services.common.settings import StorageSettings
from services.common.shards import (
    CurrentPointer,
    Manifest,
    current_key,
    manifest_key,
    new_version,
    read_current,
)
from services.common.storage import ObjectStore, open_store, sha256_hex
from tests.support.catalogs import catalog_with, sqlite_url
from tests.support.index_data import exact_top_k, vishapes_pngs
from tests.support.index_stack import (
    REPO,
    index_specs,
    merged_search,
    new_bucket,
    stored_vectors,
)

pytestmark = pytest.mark.slow


@dataclass
class IndexStack:
    store: ObjectStore
    catalog: Catalog
    indexer_url: str
    search_urls: list[str]
    redis_url: str
    storage: StorageSettings


@pytest.fixture(scope="module")
def stack(s3_endpoint: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexStack]:
    bucket = new_bucket()
    catalog_url = sqlite_url(tmp_path_factory.mktemp("catalog"))
    specs = index_specs(
        s3_endpoint, redis_url, bucket, indexers=2, search_shards=[[0, 1], [2, 3]], catalog_url=catalog_url
    )
    storage = StorageSettings(backend="s3", s3_endpoint=s3_endpoint, s3_bucket=bucket)
    store = open_store(storage)
    catalog = catalog_with(store, catalog_url, "vishapes-flat", "vishapes-hnsw", "vishapes-corrupt")
    with Stack(specs, cwd=str(REPO), echo=False).running(timeout_s=120):
        for spec in specs:
            wait_ready(spec.url)
        urls = {s.name: s.url for s in specs}
        yield IndexStack(
            store, catalog, urls["indexer"], [urls["search"], urls["search-2"]], redis_url, storage
        )


async def ingest(
    stack: IndexStack, cid: str, images: list[bytes], index_type: str | None = None
) -> JobStatus:
    ids = [stack.catalog.store_image(cid, f"{i}.png", data)[0].image_id for i, data in enumerate(images)]
    client = IndexerClient(stack.indexer_url, 30)
    try:
        job = await client.create_job(
            JobRequest(collection_id=cid, source=ObjectsSource(image_ids=ids), index_type=index_type)
        )
        for _ in range(600):
            status = await client.job_status(job.job_id)
            if status.status in ("done", "failed"):
                return status
            await asyncio.sleep(0.5)
    finally:
        await client.aclose()
    raise TimeoutError(f"job {job.job_id} did not finish")


def manifest_of(store: ObjectStore, cid: str) -> Manifest:
    pointer = read_current(store, cid)
    assert pointer is not None
    return Manifest.model_validate_json(store.get(pointer.manifest_key))


def assert_same_top_k(
    got: list[list[tuple[float, str]]], truth_ids: list[list[str]], truth_scores: np.ndarray
) -> None:
    """Equal to brute force; ids may swap only where scores tie (within float error)."""
    for hits, ids, scores in zip(got, truth_ids, truth_scores, strict=True):
        assert np.allclose([s for s, _ in hits], scores, atol=1e-4)
        for (score, iid), want in zip(hits, ids, strict=True):
            if iid != want:
                assert np.isclose(score, scores[ids.index(want)], atol=1e-4)


async def test_flat_shards_equal_brute_force_grow_without_rebuild_and_delete_at_once(
    stack: IndexStack,
) -> None:
    cid = "vishapes-flat"
    images = vishapes_pngs(300, seed=1)
    status = await ingest(stack, cid, images[:200])
    assert (status.status, status.done, status.failed) == ("done", 200, 0), status.errors[:3]
    ids, x = stored_vectors(stack.store, cid)
    assert len(ids) == 200
    q = x[::10] + 0.05 * np.random.default_rng(0).standard_normal(x[::10].shape).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    params = SearchParams(collection_ids=[cid], k=10)
    truth = exact_top_k(x, ids, q, 10)
    truth_scores = np.sort(q @ x.T, axis=1)[:, ::-1][:, :10]
    assert_same_top_k(merged_search(stack.search_urls, q, params), truth, truth_scores)

    before = manifest_of(stack.store, cid)
    status = await ingest(stack, cid, images[200:])
    assert (status.status, status.done) == ("done", 100), status
    after = manifest_of(stack.store, cid)
    assert after.count == 300
    for old, new in zip(before.shards, after.shards, strict=True):
        assert new.segments[: len(old.segments)] == old.segments  # existing segments reused as they were
    all_ids, all_x = stored_vectors(stack.store, cid)
    new_ids = sorted(set(all_ids) - set(ids))
    new_x = all_x[[all_ids.index(i) for i in new_ids]]
    everything = merged_search(stack.search_urls, new_x[:1], SearchParams(collection_ids=[cid], k=1000))[0]
    assert sorted(i for _, i in everything) == all_ids  # every image once, the new ones included
    truth_scores = np.sort(new_x @ all_x.T, axis=1)[:, ::-1][:, :10]
    got = merged_search(stack.search_urls, new_x, params)
    assert_same_top_k(got, exact_top_k(all_x, all_ids, new_x, 10), truth_scores)

    victim = new_ids[0]
    client = IndexerClient(stack.indexer_url)
    try:
        deleted = await client.delete_image(cid, victim)
    finally:
        await client.aclose()
    assert deleted.index_version and deleted.index_version != f"{after.version}.0"
    hits = merged_search(stack.search_urls, new_x[:1], SearchParams(collection_ids=[cid], k=300))[0]
    assert victim not in {iid for _, iid in hits} and len(hits) == 299


async def test_ann_shards_reach_recall_095(stack: IndexStack) -> None:
    cid = "vishapes-hnsw"
    status = await ingest(stack, cid, vishapes_pngs(200, seed=2), index_type="HNSW16")
    assert status.status == "done"
    manifest = manifest_of(stack.store, cid)
    assert {seg.index_type for shard in manifest.shards for seg in shard.segments} == {"HNSW16"}
    ids, x = stored_vectors(stack.store, cid)
    q = x[::4]
    got = merged_search(stack.search_urls, q, SearchParams(collection_ids=[cid], k=10, ef_search=32))
    truth = exact_top_k(x, ids, q, 10)
    recall = np.mean([len({i for _, i in g} & set(t)) / 10 for g, t in zip(got, truth, strict=True)])
    assert recall >= 0.95


async def test_corrupt_shard_is_refused_and_the_last_good_version_serves(stack: IndexStack) -> None:
    cid = "vishapes-corrupt"
    await ingest(stack, cid, vishapes_pngs(60, seed=3))
    _, x = stored_vectors(stack.store, cid)
    params = SearchParams(collection_ids=[cid], k=5)
    good = merged_search(stack.search_urls, x[:5], params)
    good_pointer = read_current(stack.store, cid)
    assert good_pointer is not None

    # A new version whose shard-0 segment is a copy with one flipped byte.
    bad = manifest_of(stack.store, cid).model_copy(deep=True)
    bad.version, bad.parent = new_version(), bad.version
    seg = bad.shards[0].segments[0]
    raw = bytearray(stack.store.get(seg.key))
    raw[len(raw) // 2] ^= 0x01
    seg.key = seg.key.replace(bad.parent, bad.version)
    stack.store.put(seg.key, bytes(raw))
    data = bad.model_dump_json().encode()
    stack.store.put(manifest_key(cid, bad.version), data)
    pointer = good_pointer.model_copy(
        update={
            "version": bad.version,
            "manifest_key": manifest_key(cid, bad.version),
            "manifest_sha256": sha256_hex(data),
        }
    )
    stack.store.put(current_key(cid), CurrentPointer.model_validate(pointer).model_dump_json().encode())
    signals = RedisSignals(stack.redis_url, redis_namespace(stack.storage))
    await signals.announce(IndexEvent(type="version", collection_id=cid, value=bad.version))
    await signals.aclose()

    assert merged_search(stack.search_urls, x[:5], params) == good
    holder_of_0 = stack.search_urls[0]
    ready = httpx.get(holder_of_0 + "/readyz").json()
    check = next(c for c in ready["checks"] if c["name"] == "index-integrity")
    assert not check["ok"] and "sha256" in check["reason"] and cid in check["reason"]
    assert ready["status"] == "ready"  # still serving the last good version
    metrics = httpx.get(holder_of_0 + "/metrics").text
    assert f'search_index_load_failed{{collection="{cid}"}} 1.0' in metrics
    other = httpx.get(stack.search_urls[1] + "/readyz").json()  # shards 2, 3 were intact
    assert next(c for c in other["checks"] if c["name"] == "index-integrity")["ok"]

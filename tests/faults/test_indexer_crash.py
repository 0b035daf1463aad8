"""SIGKILL an indexer worker again and again during ingestion: every accepted image ends up
searchable exactly once, and no half-written version is ever served."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from deploy.harness.ready import wait_ready
from deploy.stack import Stack
from services.common.clients.indexer import IndexerClient
from services.common.schemas.indexer import JobRequest, JobStatus, ObjectsSource
from services.common.schemas.search import SearchParams
from services.common.settings import StorageSettings
from services.common.storage import open_store
from tests.support.catalogs import catalog_with, sqlite_url
from tests.support.index_data import vishapes_pngs
from tests.support.index_stack import REPO, index_specs, merged_search, new_bucket, stored_vectors

pytestmark = pytest.mark.slow
KILLS = 4


async def test_sigkill_during_ingestion_loses_and_duplicates_nothing(
    s3_endpoint: str, redis_url: str, tmp_path: Path
) -> None:
    bucket = new_bucket()
    specs = index_specs(
        s3_endpoint,
        redis_url,
        bucket,
        indexers=1,
        search_shards=[[]],
        catalog_url=sqlite_url(tmp_path),
        INDEXER_BATCH_SIZE="8",
        INDEXER_FLAT_MAX="0",
        INDEXER_INDEX_TYPE="Flat",
    )
    store = open_store(StorageSettings(backend="s3", s3_endpoint=s3_endpoint, s3_bucket=bucket))
    cid = "crash"
    catalog = catalog_with(store, sqlite_url(tmp_path), cid)
    ids = [
        catalog.store_image(cid, f"{i}.png", data)[0].image_id for i, data in enumerate(vishapes_pngs(240, 5))
    ]
    accepted = set(ids)
    indexer = next(s for s in specs if s.name == "indexer")
    stack = Stack(specs, cwd=str(REPO), echo=False)
    rng = random.Random(5)
    with stack.running(timeout_s=120):
        for spec in specs:
            wait_ready(spec.url)
        client = IndexerClient(indexer.url, 30)
        # Overlapping jobs: ids 60-99 and 140-179 are in two jobs each.
        jobs = [
            await client.create_job(JobRequest(collection_id=cid, source=ObjectsSource(image_ids=ids[a:b])))
            for a, b in ((0, 100), (60, 180), (140, 240))
        ]
        mid_job_kills = 0
        progress = 0
        for _ in range(KILLS):
            # Kill only once this worker life has made progress, a random moment into its work:
            # a fixed sleep lands after the jobs end on a fast machine and before any work on a slow one.
            progress = await _next_progress(client, jobs, progress)
            if progress is None:
                break
            await asyncio.sleep(rng.uniform(0.0, 0.4))
            states = [(await client.job_status(j.job_id)).status for j in jobs]
            mid_job_kills += any(s not in ("done", "failed") for s in states)
            stack.kill_one("indexer")
            stack.start_one(indexer)
            stack.wait_healthy(indexer, 60)
        await client.aclose()
        assert mid_job_kills >= 2, "the kills must land while jobs run"
        client = IndexerClient(indexer.url, 30)
        try:
            for _ in range(400):
                states = [(await client.job_status(j.job_id)).status for j in jobs]
                if all(s in ("done", "failed") for s in states):
                    break
                await asyncio.sleep(0.5)
            assert states == ["done"] * 3
            info = await client.collection_index(cid)
        finally:
            await client.aclose()
        assert info.image_count == len(accepted)
        _, x = stored_vectors(store, cid)
        search_url = next(s.url for s in specs if s.name == "search")
        hits = merged_search([search_url], x[:1], SearchParams(collection_ids=[cid], k=1000))[0]
        found = [iid for _, iid in hits]
        assert len(found) == len(set(found)), "an image is searchable twice"
        assert set(found) == accepted


async def _next_progress(client: IndexerClient, jobs: list[JobStatus], since: int) -> int | None:
    """Wait until the jobs together count more finished items than `since`; None once all have ended."""
    for _ in range(1200):
        statuses = [await client.job_status(j.job_id) for j in jobs]
        if all(s.status in ("done", "failed") for s in statuses):
            return None
        total = sum(s.done + s.failed for s in statuses)
        if total > since:
            return total
        await asyncio.sleep(0.05)
    raise AssertionError("the jobs made no progress in 60 s")

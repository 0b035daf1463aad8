"""Deletes through the indexer API: folded once per interval, old versions collected after the
grace, so storage holds one version per collection (real indexer, replicas, Redis and S3)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from deploy.harness.ready import wait_ready
from deploy.stack import Stack
from services.common.index_signals import IndexEvent, RedisSignals, redis_namespace
from services.common.schemas.search import SearchParams
from services.common.settings import StorageSettings
from services.common.shards import index_prefix
from services.common.storage import ObjectStore, open_store
from tests.support.catalogs import sqlite_url
from tests.support.index_data import clustered, ids_for, write_batches
from tests.support.index_stack import REPO, index_specs, merged_search, new_bucket, wait_for

pytestmark = pytest.mark.slow
CID = "folds"
INTERVAL_S = 0.5


def manifests(store: ObjectStore) -> int:
    return sum(1 for k in store.iter_keys(index_prefix(CID)) if k.endswith("manifest.json"))


async def test_deletes_fold_per_interval_and_old_versions_go(
    s3_endpoint: str, redis_url: str, tmp_path: Path
) -> None:
    bucket = new_bucket()
    storage = StorageSettings(backend="s3", s3_endpoint=s3_endpoint, s3_bucket=bucket)
    store = open_store(storage)
    ids, x = ids_for(200), clustered(200)
    write_batches(store, CID, ids, x)
    specs = index_specs(
        s3_endpoint,
        redis_url,
        bucket,
        indexers=1,
        search_shards=[[0, 1, 2, 3]],
        catalog_url=sqlite_url(tmp_path),
        INDEXER_FOLD_INTERVAL_S=str(INTERVAL_S),
        INDEXER_VERSION_GC_GRACE_S="1",
    )
    urls = {s.name: s.url for s in specs}
    signals = RedisSignals(redis_url, redis_namespace(storage))
    versions: list[str] = []

    async def listen() -> None:
        events = signals.events()
        async for event in events:
            if isinstance(event, IndexEvent) and event.collection_id == CID and event.type == "version":
                versions.append(event.value)

    with Stack(specs, cwd=str(REPO), echo=False).running(timeout_s=120):
        for spec in specs:
            wait_ready(spec.url)
        async with httpx.AsyncClient(base_url=urls["indexer"], timeout=30) as client:
            assert (await client.post(f"/v1/collections/{CID}/publish")).status_code == 200
            listener = asyncio.create_task(listen())
            await asyncio.sleep(0.3)  # subscribed
            started = time.monotonic()
            for chunk in range(0, 100, 20):  # 100 deletes, 20 at a time
                answers = await asyncio.gather(
                    *(client.delete(f"/v1/collections/{CID}/images/{i}") for i in ids[chunk : chunk + 20])
                )
                assert {a.status_code for a in answers} == {200}
            elapsed = time.monotonic() - started

            def folded() -> bool:
                info = httpx.get(f"{urls['indexer']}/v1/collections/{CID}/index", timeout=5).json()
                return bool(info["image_count"] == 100)

            # Generous: on a loaded machine a fold waits its turn for the cores (seen: over 30 s).
            wait_for(folded, 90, "every delete folded into a version")
            wait_for(lambda: manifests(store) == 1, 90, "old versions collected")
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        hits = merged_search([urls["search"]], x[100:101], SearchParams(collection_ids=[CID], k=200))[0]
    await signals.aclose()
    folds = len(set(versions))
    assert 1 <= folds <= elapsed / INTERVAL_S + 2, (folds, elapsed)
    assert sorted(i for _, i in hits) == ids[100:]
    assert np.isfinite([s for s, _ in hits]).all()

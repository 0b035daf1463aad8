"""One shard against four over HTTP: real search replicas (processes) on a local store."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from deploy.stack import ProcessSpec, Stack, free_port
from services.common.clients.search import SearchClient
from services.common.index_signals import StoreSignals
from services.common.schemas.search import SearchParams
from services.common.shards import pack_vectors, vector_batch_key
from services.common.storage.local import LocalObjectStore
from services.indexer.locks import FileLocks
from services.indexer.publisher import BuildConfig, Publisher

K = 10
CID = "bench"
SINGLE = 200


def _publish(root: Path, x: np.ndarray, shard_count: int, index_type: str) -> float:
    store = LocalObjectStore(root)
    ids = [f"v{i:07d}" for i in range(len(x))]
    for first in range(0, len(x), 10_000):
        key = vector_batch_key(CID, "bench", f"b{first:07d}")
        store.put(key, pack_vectors(ids[first : first + 10_000], x[first : first + 10_000]))
    config = BuildConfig(shard_count=shard_count, index_type=index_type)
    publisher = Publisher(store, StoreSignals(store), FileLocks(root / "locks"), config)
    start = time.perf_counter()
    asyncio.run(publisher.publish(CID, "bench"))
    return time.perf_counter() - start


def _replica(root: Path, shard_count: int, shards: str) -> ProcessSpec:
    port = free_port()
    env = {
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(root),
        "REDIS_URL": "",
        "SEARCH_PORT": str(port),
        "SEARCH_SHARD_COUNT": str(shard_count),
        "SEARCH_SHARDS": shards,
        "SEARCH_LOG_LEVEL": "warning",
        "SEARCH_FAISS_THREADS": "1",
    }
    import sys

    return ProcessSpec(f"search-{shard_count}-{shards}", [sys.executable, "-m", "services.search"], port, env)


async def _measure(urls: list[str], q: np.ndarray, nprobe: int) -> tuple[float, float, float, np.ndarray]:
    clients = [SearchClient(u, 60) for u in urls]
    params = SearchParams(collection_ids=[CID], k=K, nprobe=nprobe)

    async def one(qq: np.ndarray) -> list[list[str]]:
        responses = await asyncio.gather(*(c.search_vectors(qq, params) for c in clients))
        merged = []
        for i in range(len(qq)):
            hits = sorted((h for r in responses for h in r.results[i]), key=lambda h: -h.score)[:K]
            merged.append([h.image_id for h in hits])
        return merged

    try:
        await one(q[:5])  # warm: versions loaded, connections open
        latencies: list[float] = []
        for i in range(SINGLE):
            start = time.perf_counter()
            await one(q[i : i + 1])
            latencies.append(time.perf_counter() - start)
        start = time.perf_counter()
        found = await one(q)
        batch_qps = len(q) / (time.perf_counter() - start)
    finally:
        for c in clients:
            await c.aclose()
    rows = np.array([[int(iid[1:]) for iid in r] for r in found])
    return statistics.median(latencies) * 1000, SINGLE / sum(latencies), batch_qps, rows


def http_table(x: np.ndarray, q: np.ndarray, truth: np.ndarray, nlist: int) -> str:
    lines = [
        "1 shard vs 4 shards over HTTP (search replicas as processes, msgpack queries, local store):",
        "",
        "| layout | index per shard | publish s | nprobe | recall@10 | median ms (1 query) "
        "| q/s (1 query) | q/s (batch) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    layouts = [
        ("1 shard, 1 replica", 1, [""], nlist),
        ("4 shards, 2 replicas", 4, ["0,1", "2,3"], max(16, nlist // 4)),
    ]
    for label, shard_count, assignment, shard_nlist in layouts:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            build = _publish(root, x, shard_count, f"IVF{shard_nlist},Flat")
            specs = [_replica(root, shard_count, s) for s in assignment]
            with Stack(specs, echo=False).running(timeout_s=120):
                nprobe = max(4, shard_nlist // 32)
                ms, single, batch, found = asyncio.run(_measure([s.url for s in specs], q, nprobe))
        r = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))
        lines.append(
            f"| {label} | IVF{shard_nlist},Flat | {build:.1f} | {nprobe} | {r:.3f} | {ms:.2f} "
            f"| {single:,.0f} | {batch:,.0f} |"
        )
        print(lines[-1], flush=True)
    return "\n".join(lines)

"""100 collections of 1,000 images searched together against one collection of 100,000.

    python -m bench.collections_bench [--seconds 5]

The same 100,000 clustered 256-d unit vectors are published (vector batches written straight
into storage, then the indexer's Publisher, 4 shards, `auto` index types) once as 100 collections
of 1,000 and once as one collection; a search replica (a process) holds one layout at a time and
a load generator (`bench.loadgen`, its own process) sends new queries naming every collection,
as the gateway does (k = MAX_DEPTH), at 1 and 16 clients, with Redis signals and without. The
100 collections are served through the replica's merged view and, as before it, each on its own
segments (`SEARCH_VIEWS=false`). The peer is the one 100,000-image collection. Writes
bench/results/collections.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from bench.system import load_average, percentiles
from bench.vectors import clustered_vectors
from deploy.harness.servers import redis_server
from deploy.stack import ProcessSpec, Stack, free_port
from services.common.clients.search import SearchClient
from services.common.index_signals import RedisSignals, redis_namespace
from services.common.schemas.public import MAX_DEPTH
from services.common.schemas.search import SearchParams
from services.common.settings import StorageSettings
from services.common.shards import pack_vectors, vector_batch_key
from services.common.storage.local import LocalObjectStore
from services.indexer.locks import FileLocks
from services.indexer.publisher import BuildConfig, Publisher

DIM, TOTAL, SMALL, MV = 256, 100_000, 1_000, "bench"
QUERIES, RECALL_QUERIES, K_RECALL = 400, 50, 10
PEER = "one 100,000-image collection"
OUT = Path("bench/results/collections.md")


def _collections(layout: str) -> dict[str, slice]:
    if layout == "one":
        return {"big": slice(0, TOTAL)}
    return {f"c{i:03d}": slice(i * SMALL, (i + 1) * SMALL) for i in range(TOTAL // SMALL)}


async def _publish(root: Path, redis_url: str, x: np.ndarray, layout: str) -> float:
    store = LocalObjectStore(root)
    storage = StorageSettings(backend="local", local_root=str(root))
    signals = RedisSignals(redis_url, redis_namespace(storage))
    publisher = Publisher(store, signals, FileLocks(root / "locks"), BuildConfig(shard_count=4))
    start = time.perf_counter()
    try:
        for cid, rows in _collections(layout).items():
            ids = [f"{cid}-{i:06d}" for i in range(rows.stop - rows.start)]
            for first in range(0, len(ids), 10_000):
                batch = x[rows][first : first + 10_000]
                key = vector_batch_key(cid, MV, f"b{first:07d}")
                store.put(key, pack_vectors(ids[first : first + 10_000], batch))
            await publisher.publish(cid, MV)
    finally:
        await signals.aclose()
    return time.perf_counter() - start


def _replica(root: Path, redis_url: str, views: bool) -> ProcessSpec:
    port = free_port()
    env = {
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(root),
        "REDIS_URL": redis_url,
        "SEARCH_PORT": str(port),
        "SEARCH_SHARD_COUNT": "4",
        "SEARCH_LOG_LEVEL": "warning",
        "SEARCH_FAISS_THREADS": "1",
        "SEARCH_VIEWS": "true" if views else "false",
        "SEARCH_VIEW_DEBOUNCE_S": "0",
    }
    return ProcessSpec("search", [sys.executable, "-m", "services.search"], port, env)


def _wait_views(url: str, rows: int, timeout_s: float = 600) -> float:
    """Seconds until the replica's merged view holds `rows` rows (its gauge in /metrics)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        text = httpx.get(url + "/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith("search_view_rows{") and float(line.rsplit(" ", 1)[1]) >= rows:
                return time.monotonic() - start
        time.sleep(0.5)
    raise RuntimeError(f"no merged view of {rows} rows after {timeout_s} s")


def _load(url: str, bodies: Path, clients: int, seconds: float) -> tuple[float, float, float]:
    argv = [sys.executable, "-m", "bench.loadgen", "--url", url, "--path", "/v1/search"]
    argv += ["--bodies", str(bodies), "--clients", str(clients), "--seconds", str(seconds)]
    out = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    if out["errors"]:
        raise RuntimeError(f"search errors: {out['errors']}")
    p50, _, p99 = percentiles(out["latencies_ms"])
    return len(out["latencies_ms"]) / out["elapsed_s"], p50, p99


async def _recall(url: str, cids: list[str], q: np.ndarray, truth: list[set[str]]) -> float:
    client = SearchClient(url, 60)
    try:
        found = []
        for i in range(len(q)):
            resp = await client.search_vectors(q[i : i + 1], SearchParams(collection_ids=cids, k=K_RECALL))
            found.append({h.image_id for h in resp.results[0]})
    finally:
        await client.aclose()
    return float(np.mean([len(f & t) / K_RECALL for f, t in zip(found, truth, strict=True)]))


@dataclass(frozen=True)
class Point:
    label: str
    signals: str
    clients: int
    qps: float
    p50: float
    p99: float
    recall: float
    built_s: float


def _image_id(layout: str, row: int) -> str:
    """The id `_publish` gave vector `row`."""
    if layout == "one":
        return f"big-{row:06d}"
    return f"c{row // SMALL:03d}-{row % SMALL:06d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per load point")
    args = parser.parse_args(argv)
    data = clustered_vectors(TOTAL + QUERIES, DIM, clusters=200, intrinsic=16, seed=0)
    x, q = data[:TOTAL], data[TOTAL:]
    exact = np.argsort(-(q[:RECALL_QUERIES] @ x.T), axis=1)[:, :K_RECALL]
    points: list[Point] = []
    layouts = [
        (PEER, "one", True),
        ("100 × 1,000, merged view", "many", True),
        ("100 × 1,000, each on its own (before)", "many", False),
    ]
    with tempfile.TemporaryDirectory() as tmp, redis_server() as (redis_url, _):
        roots = {name: Path(tmp) / name for name in ("one", "many")}
        published = {name: asyncio.run(_publish(root, redis_url, x, name)) for name, root in roots.items()}
        for label, layout, views in layouts:
            cids = sorted(_collections(layout))
            truth = [{_image_id(layout, int(j)) for j in row} for row in exact]
            bodies = Path(tmp) / f"{layout}.jsonl"
            bodies.write_text(
                "\n".join(
                    json.dumps({"vectors": [v.round(6).tolist()], "k": MAX_DEPTH, "collection_ids": cids})
                    for v in q
                )
            )
            for signals, url in (("Redis", redis_url), ("none", "")):
                spec = _replica(roots[layout], url, views)
                with Stack([spec], echo=False).running(timeout_s=300):
                    built = _wait_views(spec.url, TOTAL) if views and layout == "many" else 0.0
                    recall = asyncio.run(_recall(spec.url, cids, q[:RECALL_QUERIES], truth))
                    _load(spec.url, bodies, 1, 1.0)  # warm: connections, code paths
                    for clients in (1, 16):
                        qps, p50, p99 = _load(spec.url, bodies, clients, args.seconds)
                        points.append(Point(label, signals, clients, qps, p50, p99, recall, built))
                        print(points[-1], flush=True)
    OUT.write_text(_report(points, published, args.seconds))
    print(OUT.read_text())
    return 0


def _report(points: list[Point], published: dict[str, float], seconds: float) -> str:
    peer = {(p.signals, p.clients): p for p in points if p.label == PEER}
    lines = [
        "# Many collections benchmark",
        "",
        "Command: `python -m bench.collections_bench`",
        "",
        f"{TOTAL:,} clustered {DIM}-d unit vectors as 100 collections of {SMALL:,} and as {PEER}; one "
        f"search replica process (4 shards, `auto` types, one FAISS thread), new queries naming every "
        f"collection with k = {MAX_DEPTH}, {seconds:.0f} s per point from a load generator process. "
        f"Published in {published['many']:.1f} s (100 collections) and {published['one']:.1f} s (one). "
        f"Load average {load_average()} at the end.",
        "",
        "| layout | signals | clients | q/s | p50 ms | p99 ms | recall@10 | p50 vs peer | q/s vs peer |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in points:
        base = peer[(p.signals, p.clients)]
        lines.append(
            f"| {p.label} | {p.signals} | {p.clients} | {p.qps:,.0f} | {p.p50:.2f} | {p.p99:.2f} "
            f"| {p.recall:.3f} | {p.p50 / base.p50:.2f}× | {p.qps / base.qps:.2f}× |"
        )
    built = [p.built_s for p in points if p.built_s]
    if built:
        lines += [
            "",
            f"The merged view of {TOTAL:,} rows was built {statistics.median(built):.0f} s after the "
            "replica started (median of its starts).",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())

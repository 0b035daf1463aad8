"""Search at scale, end to end: a million vectors imported, published, loaded and searched.

    python -m bench.scale --vectors 1000000          # writes bench/results/scale.md
    python -m bench.scale --vectors 1000000 --dim 512

Vectors are generated around real image embeddings of the demo model (ViShapes-vi pictures
embedded by the running encoder, each the centre of a cluster varying along a few directions),
so the demo model's text queries land where the data is, as real queries do. They are written
in clip-retrieval's layout (`img_emb/*.npy` in float16 + `metadata/*.parquet`) and brought in
by the embeddings import (`python -m services.indexer.bulk_import`), which publishes one index
version with the indexer's settings (`auto` picks each shard's index type). Then, through the
gateway: new-query p50/p99 at 1 and 16 clients (`mode: dense`, every query new), repeated-query
p50, and recall@10 of the served results against exact search over the same vectors; and on
the search replica: memory per vector (its resident size loaded minus empty), the time it took
to load the version, and again after a restart.

Peers, in the same run: the physical limit (bytes one query reads: the distance computations
FAISS counts for this index times 4·d, at the machine's measured memory bandwidth), and
hnswlib over the same vectors, its `ef` raised until it reaches the recall the service served,
both timed in process on the replica's own index and on hnswlib's (one query at a time).

At `--dim` other than the demo model's, no model can encode a query: the vectors are imported
under a model version of their own and queries are data points sent to the replica directly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss as _faiss
import httpx
import numpy as np
import psutil

from bench.machine import measure
from bench.system import PY, bench_stack, load_average, percentiles
from bench.vectors import anchored_vectors
from deploy.harness.fullstack import RunningStack, vishapes
from deploy.harness.ready import wait_ready
from services.common.catalog import referenced_image_id

CLIENTS = (1, 16)
PART_ROWS = 100_000
K = 10
faiss: Any = _faiss  # the SWIG stubs lack the statistics globals


@dataclass
class Load:
    target: str
    clients: int
    qps: float
    p50: float
    p99: float
    errors: int


@dataclass
class Result:
    vectors: int
    dim: int
    index_types: list[str] = field(default_factory=list)
    import_s: float = 0.0
    publish_s: float = 0.0
    load_s: float = 0.0
    restart_s: float = 0.0
    bytes_per_vector: float = 0.0
    recall: float = 0.0
    loads: list[Load] = field(default_factory=list)
    ours_us: float = 0.0
    ours_bytes: float = 0.0
    floor_us: float = 0.0
    hnsw_ef: int = 0
    hnsw_recall: float = 0.0
    hnsw_us: float = 0.0
    hnsw_build_s: float = 0.0
    copy_gb_s: float = 0.0
    through_gateway: bool = True


def write_clip_layout(folder: Path, x: np.ndarray) -> list[str]:
    """Parts of PART_ROWS rows, float16 as `clip inference` writes; returns each row's path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / "img_emb").mkdir(parents=True)
    (folder / "metadata").mkdir()
    paths = [f"thư viện/{i // 1000:04d}/ảnh_{i:07d}.jpg" for i in range(len(x))]
    for n, start in enumerate(range(0, len(x), PART_ROWS)):
        np.save(folder / "img_emb" / f"img_emb_{n}.npy", x[start : start + PART_ROWS].astype(np.float16))
        table = pa.table({"image_path": paths[start : start + PART_ROWS]})
        pq.write_table(table, folder / "metadata" / f"metadata_{n}.parquet")
    return paths


def as_imported(x: np.ndarray) -> np.ndarray:
    """What the import stores: the float16 rows back in float32, unit length."""
    y = x.astype(np.float16).astype(np.float32)
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def exact_top(x: np.ndarray, q: np.ndarray, k: int = K, chunk: int = 200_000) -> np.ndarray:
    best_s = np.full((len(q), 0), -np.inf, np.float32)
    best_i = np.zeros((len(q), 0), np.int64)
    for start in range(0, len(x), chunk):
        s = q @ x[start : start + chunk].T
        idx = np.argpartition(-s, k - 1, axis=1)[:, :k]
        best_s = np.hstack([best_s, np.take_along_axis(s, idx, 1)])
        best_i = np.hstack([best_i, idx + start])
        keep = np.argsort(-best_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(best_s, keep, 1), np.take_along_axis(best_i, keep, 1)
    return best_i


def recall_at_k(found: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f[:K]) & set(t.tolist())) / K for f, t in zip(found, truth, strict=True)]))


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def run_import(env: dict[str, str], folder: Path, cid: str, model: str, dim: int) -> dict[str, Any]:
    argv = [PY, "-m", "services.indexer.bulk_import", str(folder), "--collection", cid]
    argv += ["--model-version", model, "--dim", str(dim)]
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bulk import failed: {done.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


def replica_holds(search_url: str, cid: str, version: str, dim: int, timeout_s: float) -> float:
    """Seconds until the replica answers from `version` of `cid`."""
    started = time.perf_counter()
    body = {"vectors": [[1.0 / np.sqrt(dim)] * dim], "k": 1, "collection_ids": [cid]}
    while time.perf_counter() - started < timeout_s:
        try:
            reply = httpx.post(search_url + "/v1/search", json=body, timeout=30)
            if reply.status_code == 200 and reply.json()["index_versions"].get(cid) == version:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the replica did not load {cid}@{version} within {timeout_s:g} s")


def load(url: str, path: str, bodies: Path, target: str, clients: int, seconds: float, unique: bool) -> Load:
    argv = [PY, "-m", "bench.loadgen", "--url", url, "--path", path, "--bodies", str(bodies)]
    argv += ["--clients", str(clients), "--seconds", str(seconds)] + (["--unique"] if unique else [])
    out = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    lat = out["latencies_ms"]
    p50, _, p99 = percentiles(lat)
    point = Load(target, clients, len(lat) / out["elapsed_s"], p50, p99, sum(out["errors"].values()))
    print(f"  {target:<22} {clients:>3} clients: {point.qps:8.1f} q/s  p50 {p50:7.2f} ms", flush=True)
    return point


def held_indexes(stack_env: dict[str, str], cid: str) -> list[Any]:
    """The published segments, deserialized here as the replica does (for in-process timing)."""
    from services.common.settings import StorageSettings
    from services.common.shards import Manifest, read_current
    from services.common.storage import open_store

    store = open_store(StorageSettings(backend="local", local_root=Path(stack_env["STORAGE_LOCAL_ROOT"])))
    pointer = read_current(store, cid)
    assert pointer is not None
    manifest = Manifest.model_validate_json(store.get(pointer.manifest_key))
    return [
        faiss.deserialize_index(np.frombuffer(store.get(seg.key), dtype=np.uint8))
        for shard in manifest.shards
        for seg in shard.segments
    ]


def time_ours(indexes: list[Any], q: np.ndarray) -> tuple[float, float]:
    """Median µs of one query over every segment (one thread, as a replica answers one query),
    and the vector bytes it read (FAISS's own distance counts)."""
    faiss.omp_set_num_threads(1)
    faiss.cvar.hnsw_stats.reset()
    faiss.cvar.indexIVF_stats.reset()
    times = []
    for row in q:
        one = row[None, :]
        start = time.perf_counter()
        for index in indexes:
            index.search(one, K)
        times.append(time.perf_counter() - start)
    dim = q.shape[1]
    ndis = faiss.cvar.hnsw_stats.ndis + faiss.cvar.indexIVF_stats.ndis
    nlist = sum(getattr(faiss.extract_index_ivf(i), "nlist", 0) for i in indexes if _is_ivf(i))
    flat = sum(i.ntotal for i in indexes if not _is_ivf(i) and not hasattr(faiss.downcast_index(i), "hnsw"))
    per_query = ndis / len(q) + nlist + flat
    return float(np.median(times) * 1e6), per_query * 4 * dim


def index_kind(index: Any) -> str:
    return type(faiss.downcast_index(index)).__name__


def _is_ivf(index: Any) -> bool:
    try:
        faiss.extract_index_ivf(index)
    except RuntimeError:
        return False
    return True


def hnswlib_at(
    x: np.ndarray, q: np.ndarray, truth: np.ndarray, target: float
) -> tuple[int, float, float, float]:
    """(ef, recall, median µs per query, build s) of hnswlib M=16 at the lowest ef reaching `target`."""
    import hnswlib

    index = hnswlib.Index(space="ip", dim=x.shape[1])
    started = time.perf_counter()
    index.init_index(max_elements=len(x), M=16, ef_construction=100, random_seed=1)
    index.add_items(x, np.arange(len(x)), num_threads=os.cpu_count() or 1)
    build_s = time.perf_counter() - started
    index.set_num_threads(1)
    ef, rec, us = K, 0.0, 0.0
    for ef in (10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512):
        index.set_ef(ef)
        times, found = [], []
        for row in q:
            start = time.perf_counter()
            labels, _ = index.knn_query(row[None, :], k=K)
            times.append(time.perf_counter() - start)
            found.append(labels[0].tolist())
        rec, us = recall_at_k(found, truth), float(np.median(times) * 1e6)
        if rec >= target:
            break
    return ef, rec, us, build_s


def centres_from_model(running: RunningStack, work: Path, count: int) -> tuple[np.ndarray, list[str]]:
    """Image embeddings of `count` ViShapes-vi pictures (cluster centres) and their captions."""
    from services.common.clients import EncoderClient

    shapes = vishapes(work / "vishapes", count)

    async def embed() -> np.ndarray:
        client = EncoderClient(running.urls["encoder"], 120)
        try:
            rows = []
            for start in range(0, len(shapes), 64):
                files = [s.path.read_bytes() for s in shapes[start : start + 64]]
                rows.append((await client.embed_images(files)).vectors)
            return np.vstack(rows)
        finally:
            await client.aclose()

    return asyncio.run(embed()), [s.caption for s in shapes]


def embed_texts(running: RunningStack, texts: list[str]) -> np.ndarray:
    from services.common.clients import EncoderClient

    async def embed() -> np.ndarray:
        client = EncoderClient(running.urls["encoder"], 120)
        try:
            return (await client.embed_texts(texts))[0]
        finally:
            await client.aclose()

    return np.asarray(asyncio.run(embed()), np.float32)


def measure_scale(args: argparse.Namespace, work: Path) -> Result:
    machine = measure(copy_mb=256, matmul_n=1024, repeats=3)
    env = {"STORAGE_LOCAL_ROOT": str(work / "storage")}
    with (
        bench_stack(work / "storage", **env) as running,
        httpx.Client(base_url=running.gateway, timeout=300) as api,
    ):
        stack_env = {"STORAGE_BACKEND": "local", **env, "CATALOG_URL": running.catalog_url}
        stack_env["REDIS_URL"] = running.stack.specs[0].env.get("REDIS_URL", "")
        wait_ready(running.urls["encoder"])  # the gateway is ready before the encoder's model may be
        reply = httpx.get(running.urls["encoder"] + "/v1/model", timeout=10)
        reply.raise_for_status()
        model = reply.json()
        dim = args.dim or int(model["dim"])
        through_gateway = dim == int(model["dim"])
        result = Result(args.vectors, dim, copy_gb_s=machine.copy_gb_s, through_gateway=through_gateway)
        centres, captions = centres_from_model(running, work, args.centres)
        if not through_gateway:  # no model of this dimension: centres drawn at random instead
            rng = np.random.default_rng(5)
            centres = rng.standard_normal((args.centres, dim)).astype(np.float32)
            centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        x = anchored_vectors(centres, args.vectors, seed=11)
        folder = work / "emb"
        paths = write_clip_layout(folder, x)
        x = as_imported(x)
        search_pid = running.stack.procs["search"].pid
        empty_rss = rss(search_pid)
        cid = api.post("/api/v1/collections", json={"name": "Một triệu ảnh"}).json()["id"]
        import_env = {**stack_env, "INDEXER_ENCODER_URL": running.urls["encoder"]}
        version_name = model["version"]
        if not through_gateway:
            import_env["INDEXER_ENCODER_URL"] = "http://127.0.0.1:9"  # vectors of no served model
            version_name = f"synthetic-{dim}d"
        print(f"importing {args.vectors:,} vectors ({dim}-d) …", flush=True)
        started = time.perf_counter()
        summary = run_import(import_env, folder, cid, version_name, dim)
        result.import_s = time.perf_counter() - started
        result.publish_s = float(summary["publish_s"])
        result.load_s = replica_holds(running.urls["search"], cid, summary["index_version"], dim, 1800)
        result.bytes_per_vector = (rss(search_pid) - empty_rss) / args.vectors
        indexes = held_indexes(stack_env, cid)
        result.index_types = sorted({index_kind(i) for i in indexes})
        if through_gateway:
            queries = captions[: args.queries]
            q = embed_texts(running, queries)
        else:
            rng = np.random.default_rng(3)
            q = x[rng.choice(len(x), args.queries, replace=False)]
            queries = []
        truth = exact_top(x, q)
        row_of = {referenced_image_id(cid, p): i for i, p in enumerate(paths)}
        found = served(running, api, cid, queries, q, row_of, through_gateway)
        result.recall = recall_at_k(found, truth)
        bodies = work / "queries.jsonl"
        if through_gateway:
            lines = [{"query": t, "collection_id": cid, "top_k": K, "mode": "dense"} for t in queries]
            bodies.write_text("\n".join(json.dumps(b, ensure_ascii=False) for b in lines), encoding="utf-8")
            for c in CLIENTS:
                result.loads.append(
                    load(running.gateway, "/api/v1/search", bodies, "new query", c, args.seconds, True)
                )
            for b in lines:  # kept for the repeated-query runs
                api.post("/api/v1/search", json=b).raise_for_status()
            result.loads.append(
                load(running.gateway, "/api/v1/search", bodies, "repeated query", 1, args.seconds, False)
            )
        else:
            lines = [{"vectors": [row.tolist()], "k": K, "collection_ids": [cid]} for row in q[:64]]
            bodies.write_text("\n".join(json.dumps(b) for b in lines), encoding="utf-8")
            for c in CLIENTS:
                result.loads.append(
                    load(running.urls["search"], "/v1/search", bodies, "replica", c, args.seconds, False)
                )
        result.ours_us, result.ours_bytes = time_ours(indexes, q)
        result.floor_us = result.ours_bytes / (machine.copy_gb_s * 1e9) * 1e6
        del indexes
        spec = next(s for s in running.stack.specs if s.name == "search")
        running.stack.stop_one("search")
        started = time.perf_counter()
        running.stack.start_one(spec)
        running.stack.wait_healthy(spec, 600)
        replica_holds(running.urls["search"], cid, summary["index_version"], dim, 1800)
        result.restart_s = time.perf_counter() - started
    if args.hnswlib:
        result.hnsw_ef, result.hnsw_recall, result.hnsw_us, result.hnsw_build_s = hnswlib_at(
            x, q, truth, result.recall
        )
    return result


def served(
    running: RunningStack,
    api: httpx.Client,
    cid: str,
    queries: list[str],
    q: np.ndarray,
    row_of: dict[str, int],
    through_gateway: bool,
) -> list[list[int]]:
    out = []
    for i, row in enumerate(q):
        if through_gateway:
            body = {"query": queries[i], "collection_id": cid, "top_k": K, "mode": "dense"}
            reply = api.post("/api/v1/search", json=body)
            reply.raise_for_status()
            ids = [r["image_id"] for r in reply.json()["results"]]
        else:
            body2 = {"vectors": [row.tolist()], "k": K, "collection_ids": [cid]}
            reply = httpx.post(running.urls["search"] + "/v1/search", json=body2, timeout=60)
            reply.raise_for_status()
            ids = [h["image_id"] for h in reply.json()["results"][0]]
        out.append([row_of[i] for i in ids if i in row_of])
    return out


def report(r: Result, seconds: float) -> str:
    where = (
        "through the gateway (`POST /api/v1/search`, `mode: dense`, top_k 10)"
        if r.through_gateway
        else (
            "on the search replica directly (`POST /v1/search`, one data point per query: "
            "no model has this dimension)"
        )
    )
    lines = [
        f"{r.vectors:,} vectors at {r.dim}-d, one collection, 4 shards on one search replica, "
        f"index types {', '.join(r.index_types)} (`auto`). Queries {where}; {seconds:g} s per point, "
        f"load generator in its own process. Shared 2-CPU machine, load average {load_average()} at the end.",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| import (rows, vector batches, publish) s | {r.import_s:.1f} |",
        f"| of which build and publish s | {r.publish_s:.1f} |",
        f"| replica load after publish s | {r.load_s:.1f} |",
        f"| replica load after restart s | {r.restart_s:.1f} |",
        f"| replica memory per vector KB | {r.bytes_per_vector / 1024:.2f} |",
        f"| recall@10 of served results | {r.recall:.3f} |",
    ]
    for p in r.loads:
        lines.append(f"| {p.target}, {p.clients} clients: p50 / p99 ms | {p.p50:.2f} / {p.p99:.2f} |")
        lines.append(f"| {p.target}, {p.clients} clients: q/s (errors) | {p.qps:.1f} ({p.errors}) |")
    lines += [
        "",
        "Peers, one query at a time on one thread, in process:",
        "",
        "| index | recall@10 | p50 µs | vs ours |",
        "| --- | ---: | ---: | ---: |",
        f"| ours (the replica's segments) | {r.recall:.3f} | {r.ours_us:.0f} | 1.00× |",
        f"| physical limit: {r.ours_bytes / 1e6:.2f} MB read at {r.copy_gb_s:.1f} GB/s | — "
        f"| {r.floor_us:.0f} | {r.floor_us / r.ours_us:.2f}× |",
    ]
    if r.hnsw_ef:
        lines.append(
            f"| hnswlib M=16, ef {r.hnsw_ef} (built in {r.hnsw_build_s:.0f} s) | {r.hnsw_recall:.3f} | "
            f"{r.hnsw_us:.0f} | {r.hnsw_us / r.ours_us:.2f}× |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=0, help="0: the demo model's")
    parser.add_argument("--centres", type=int, default=256, help="clusters, each around a real embedding")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--no-hnswlib", dest="hnswlib", action="store_false")
    parser.add_argument("--out", type=Path, default=Path("bench/results/scale.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        result = measure_scale(args, Path(tmp))
    text = report(result, args.seconds)
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    dim_arg = f" --dim {args.dim}" if args.dim else ""
    args.out.write_text(
        f"# Search at scale\n\nCommand: `python -m bench.scale --vectors {args.vectors}{dim_arg}`"
        f"\n\n{text}\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

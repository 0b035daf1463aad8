"""Bulk embedding on Ray Data: images/s of `python -m services.indexer.bulk` over ViShapes-vi PNGs
in an S3 server, against the in-process encoder's raw images/s with the same model threads, and
1 vs 2 model actors.

    python -m bench.bulk_bench            # writes bench/results/bulk.md
    python -m bench.bulk_bench --device cuda --actors 1 --out bench/results/bulk_gpu.md

The raw figure is the demo model's image forward alone (random pixels, batch 64, in this
process) with as many torch threads as the Ray run's actors have together. The Ray figures come
from the command's summary: `steady` counts the images that came back after the first batch,
over the time since (Ray's start and the actors' model loading left out); `whole run` is every
image over the command's wall time from listing to published version, start-up included. Each
run embeds into a fresh collection; the local Ray has one CPU per actor and one for the prepare
tasks (reading, decoding, thumbnails, storing bytes and thumbnail as an import does). The S3
server's own rate is measured too (each image costs it three requests), and the same images are
embedded from a folder into local storage, which shows what the pipeline costs without it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from moto.server import ThreadedMotoServer

from bench.encoder_bench import build_runner
from bench.system import load_average
from deploy.harness.fullstack import REPO, ShapeImage, demo_model, vishapes
from deploy.stack import free_port
from services.common.catalog import open_catalog
from services.common.settings import CatalogSettings, StorageSettings
from services.common.storage import ObjectStore, open_store

PREFIX = "imports/bench/"


def raw_images_per_s(threads: int, device: str, batch: int, repeats: int) -> float:
    """Median images/s of the demo model's image forward on `threads` torch threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        args = argparse.Namespace(model=demo_model(), device=device, dtype="auto", compile=False)
        runner = build_runner(args)
        side = runner.model.image_size
        pixels = [torch.rand(3, side, side) for _ in range(batch)]
        sync = torch.cuda.synchronize if runner.device.type == "cuda" else None
        rates = []
        for i in range(repeats + 2):  # two untimed: allocator, lazy initialisation
            start = time.perf_counter()
            runner.encode_pixels(pixels)
            if sync is not None:
                sync()
            if i >= 2:
                rates.append(batch / (time.perf_counter() - start))
        return statistics.median(rates)
    finally:
        torch.set_num_threads(before)


Source = tuple[dict[str, str], str]  # the command's environment, its --source


def bulk_run(
    env: dict[str, str], source: str, cid: str, actors: int, args: argparse.Namespace
) -> dict[str, float]:
    argv = ["--collection", cid, "--source", source, "--model", demo_model(), "--actors", str(actors),
            "--batch-size", str(args.batch_size), "--device", args.device]  # fmt: skip
    if args.device == "cpu":
        argv += ["--num-cpus", str(actors + 1)]
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "services.indexer.bulk", *argv]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"bulk run failed ({proc.returncode}): {proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    if summary["written"] != summary["images"]:
        raise RuntimeError(f"not every image was written: {summary}")
    return {"steady": float(summary["steady_images_per_s"]), "whole": summary["images"] / wall}


def s3_requests_per_s(store: ObjectStore, data: bytes, n: int = 300) -> float:
    """Writes per second the S3 server takes from 8 threads (reads cost about the same)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: store.put(f"probe/{i}", data), range(n)))
    return n / (time.perf_counter() - start)


def base_env(work: Path, name: str, **values: str) -> dict[str, str]:
    env = {
        **os.environ,
        "TIMANH_DEV": "1",
        "CATALOG_URL": f"sqlite:///{work / name / 'catalog.db'}",
        "INDEXER_QUEUE_PATH": str(work / name / "queue" / "q.sqlite"),
        "INDEXER_ENCODER_URL": "http://127.0.0.1:9",  # none: the checkpoint's version is used
        "OMP_WAIT_POLICY": "PASSIVE",
        **values,
    }
    env.pop("REDIS_URL", None)
    return env


def measure(args: argparse.Namespace, counts: list[int], name: str, source: str, env: dict[str, str],
            store: ObjectStore) -> dict[int, list[dict[str, float]]]:  # fmt: skip
    catalog = open_catalog(CatalogSettings(url=env["CATALOG_URL"]), store)
    results: dict[int, list[dict[str, float]]] = {}
    for n in counts:
        for run in range(args.runs):
            cid = catalog.create_collection(f"{name}, {n} actors, run {run + 1}").id
            results.setdefault(n, []).append(bulk_run(env, source, cid, n, args))
            print(f"  {name}, {n} actor(s), run {run + 1}: {results[n][-1]}", flush=True)
    catalog.sessions.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--actors", default="1,2", help="comma-separated actor counts")
    parser.add_argument("--batch-size", type=int, default=64, help="images per forward and per CPU task")
    parser.add_argument("--repeats", type=int, default=30, help="timed forwards of the raw figure")
    parser.add_argument("--out", type=Path, default=Path("bench/results/bulk.md"))
    args = parser.parse_args(argv)
    counts = [int(a) for a in args.actors.split(",")]
    # CPU actors have one torch thread each; on a GPU the peer is the forward on that GPU.
    threads = {n: n if args.device == "cpu" else torch.get_num_threads() for n in counts}
    raws = {n: raw_images_per_s(threads[n], args.device, args.batch_size, args.repeats) for n in counts}
    print("raw:", {n: round(r) for n, r in raws.items()}, flush=True)

    work = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    shapes = vishapes(work / "vishapes", args.images)
    port = free_port()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every S3 request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        bucket = f"bulk-{uuid.uuid4().hex[:12]}"
        storage = StorageSettings(backend="s3", s3_endpoint=f"http://127.0.0.1:{port}", s3_bucket=bucket)
        store = open_store(storage)

        def upload(shape: ShapeImage) -> None:
            store.put(PREFIX + shape.path.name, shape.path.read_bytes(), "image/png")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(upload, shapes))
        requests_per_s = s3_requests_per_s(store, shapes[0].path.read_bytes())
        s3_env = base_env(work, "s3", STORAGE_BACKEND="s3", STORAGE_S3_ENDPOINT=storage.s3_endpoint or "",
                          STORAGE_S3_BUCKET=bucket)  # fmt: skip
        results = {"S3 server": measure(args, counts, "S3 server", f"s3://{bucket}/{PREFIX}", s3_env, store)}
    finally:
        server.stop()
    # The same images from a folder into local storage: what the pipeline costs without the S3 server.
    root = work / "roots"
    (root / "library").mkdir(parents=True)
    for shape in shapes:
        (root / "library" / shape.path.name).write_bytes(shape.path.read_bytes())
    local = StorageSettings(backend="local", local_root=work / "storage")
    folder_env = base_env(work, "folder", STORAGE_BACKEND="local", STORAGE_LOCAL_ROOT=str(local.local_root),
                          INDEXER_IMPORT_ROOTS=str(root))  # fmt: skip
    results["folder, local storage"] = measure(
        args, counts, "folder", "library", folder_env, open_store(local)
    )
    text = report(args, counts, raws, results, requests_per_s)
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.bulk_bench" + (" " + " ".join(argv) if argv else "")
    args.out.write_text(f"# Bulk embedding on Ray\n\nCommand: `{command}`\n\n{text}\n")
    return 0


def report(
    args: argparse.Namespace,
    counts: list[int],
    raws: dict[int, float],
    results: dict[str, dict[int, list[dict[str, float]]]],
    requests_per_s: float,
) -> str:
    unit = "GPU" if args.device == "cuda" else "thread"
    lines = [
        f"{args.images:,} ViShapes-vi PNGs (64×64) in an S3 server (moto), demo model on {args.device}, "
        f"batch {args.batch_size}, local Ray; median of {args.runs} runs. {os.cpu_count()} CPUs, shared "
        f"(load average {load_average()} at the end): figures are noisy.",
        "",
        "| source | actors | raw in-process images/s | Ray steady images/s | Ray whole run images/s "
        "| steady / raw |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    steady: dict[str, dict[int, float]] = {}
    for source, runs in results.items():
        steady[source] = {n: statistics.median(r["steady"] for r in runs[n]) for n in counts}
        for n in counts:
            whole = statistics.median(r["whole"] for r in runs[n])
            lines.append(
                f"| {source} | {n} (1 {unit} each) | {raws[n]:,.0f} | {steady[source][n]:,.0f} "
                f"| {whole:,.0f} | {steady[source][n] / raws[n]:.2f}× |"
            )
    ceiling = requests_per_s / 3
    reached = max(steady["S3 server"].values()) / ceiling
    lines += [
        "",
        f"S3 server ceiling: {requests_per_s:,.0f} requests/s, 3 per image (read, bytes, thumbnail): "
        f"{ceiling:,.0f} images/s; the S3 runs reach {reached:.2f}× of it.",
    ]
    if len(counts) > 1:
        a, b = counts[0], counts[-1]
        for source in results:
            ratio = steady[source][b] / steady[source][a]
            lines.append(f"{source}: {b} actors / {a} actor: {ratio:.2f}× (steady images/s)")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

"""End-to-end search through the gateway against a bare FastAPI route (the framework ceiling).

    python -m bench.e2e_bench            # writes bench/results/e2e.md and e2e.png

The full stack runs as processes (private Redis, local storage, the demo model) over a
collection of ViShapes-vi images. A load generator in another process (`bench.loadgen`)
keeps 1, 8 and 32 connections busy for a fixed time each, against:

- cache hits: a few Vietnamese captions asked again and again (answered from Redis);
- cache misses: every query new (one text encode, a fan-out to the search replica, hydration), in
  the default hybrid mode (the keyword ranking from the catalog fused in) and in `mode: dense`;
- the peer: a bare FastAPI route returning the same response bytes (`bench.bare_app`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.machine import measure
from bench.plots import line_plot
from bench.system import PY, bench_stack, load_average, percentiles, process
from deploy.harness.api import accepted_upload as upload
from deploy.harness.api import wait_job
from deploy.harness.fullstack import vishapes
from deploy.stack import free_port

CLIENTS = (1, 8, 32)


@dataclass
class Point:
    target: str
    clients: int
    qps: float
    p50: float
    p95: float
    p99: float
    errors: int
    cached: int
    count: int


def load(url: str, bodies: Path, target: str, clients: int, seconds: float, unique: bool) -> Point:
    argv = [PY, "-m", "bench.loadgen", "--url", url, "--bodies", str(bodies)]
    argv += ["--clients", str(clients), "--seconds", str(seconds)] + (["--unique"] if unique else [])
    out = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    lat = out["latencies_ms"]
    p50, p95, p99 = percentiles(lat)
    point = Point(
        target, clients, len(lat) / out["elapsed_s"], p50, p95, p99,
        sum(out["errors"].values()), out["cached"], len(lat),
    )  # fmt: skip
    print(f"  {target:<14} {clients:>3} clients: {point.qps:8.1f} q/s  p50 {p50:7.2f} ms", flush=True)
    return point


def table(points: list[Point], images: int, dim_bytes: int, copy_gb_s: float) -> str:
    bare = {p.clients: p.qps for p in points if p.target == "bare FastAPI"}
    lines = [
        "| target | clients | q/s | p50 ms | p95 ms | p99 ms | requests | errors | cached | q/s vs bare |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in points:
        lines.append(
            f"| {p.target} | {p.clients} | {p.qps:,.1f} | {p.p50:.2f} | {p.p95:.2f} | {p.p99:.2f} "
            f"| {p.count} | {p.errors} | {p.cached} | {p.qps / bare[p.clients]:.2f}× |"
        )
    scan_us = images * dim_bytes / (copy_gb_s * 1e9) * 1e6
    hit1 = next(p for p in points if p.target == "cache hit" and p.clients == 1)
    lines += [
        "",
        f"Physical limit: an exact scan of the collection's {images} vectors reads "
        f"{images * dim_bytes / 1024:.0f} KiB, {scan_us:.1f} µs at the measured {copy_gb_s:.1f} GB/s; "
        f"that is {scan_us / (hit1.p50 * 1000) * 100:.3f}% of one cache hit's median latency. "
        "Search here is bound by the Python services (HTTP, JSON, event loops), not by memory or flops, "
        "which is why the peer is the framework itself.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=6.0, help="timed window per point")
    parser.add_argument("--out", type=Path, default=Path("bench/results/e2e.md"))
    args = parser.parse_args(argv)
    machine = measure(copy_mb=256, matmul_n=1024, repeats=3)
    work = Path(tempfile.mkdtemp(prefix="e2e-bench-"))
    shapes = vishapes(work / "vishapes", args.images)
    points: list[Point] = []
    with bench_stack(work / "storage") as running, httpx.Client(base_url=running.gateway, timeout=120) as api:
        cid = api.post("/api/v1/collections", json={"name": "bench"}).json()["id"]
        for first in range(0, len(shapes), 50):
            job = upload(api, cid, [s.path for s in shapes[first : first + 50]])
            assert wait_job(api, str(job["job_id"]))["status"] == "done"
        queries = [{"query": s.caption, "collection_id": cid, "top_k": 20} for s in shapes[:16]]
        bodies = work / "queries.jsonl"
        bodies.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in queries), encoding="utf-8")
        for q in queries:  # fill the cache for the hit runs
            reply = api.post("/api/v1/search", json=q)
            reply.raise_for_status()
        canned = work / "response.json"
        canned.write_bytes(reply.content)
        dim = int(httpx.get(running.urls["encoder"] + "/v1/model", timeout=10).json()["dim"])
        port = free_port()
        bare_url = f"http://127.0.0.1:{port}"
        bare_argv = [PY, "-m", "bench.bare_app", "--port", str(port), "--body", str(canned)]
        with process(bare_argv, bare_url):
            for c in CLIENTS:
                points.append(load(bare_url, bodies, "bare FastAPI", c, args.seconds, unique=False))
        for c in CLIENTS:
            points.append(load(running.gateway, bodies, "cache hit", c, args.seconds, unique=False))
        for c in CLIENTS:
            points.append(load(running.gateway, bodies, "cache miss", c, args.seconds, unique=True))
        dense = work / "dense-queries.jsonl"
        lines = (json.dumps({**q, "mode": "dense"}, ensure_ascii=False) for q in queries)
        dense.write_text("\n".join(lines), encoding="utf-8")
        for c in CLIENTS:
            points.append(load(running.gateway, dense, "cache miss, dense", c, args.seconds, unique=True))
    text = (
        f"Gateway `POST /api/v1/search`, top_k=20, over {args.images} ViShapes-vi images "
        f"(demo model, 1 search replica, Redis cache, local storage); {args.seconds:g} s per point, "
        f"load generator in its own process. Shared 2-CPU machine (load average {load_average()} at the "
        "end): figures are noisy, compare ratios rather than absolutes.\n\n"
        + table(points, args.images, 4 * dim, machine.copy_gb_s)
    )
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# End-to-end search\n\nCommand: `python -m bench.e2e_bench`\n\n{text}\n")
    targets = ("bare FastAPI", "cache hit", "cache miss", "cache miss, dense")

    def series(attr: str) -> dict[str, tuple[list[float], list[float]]]:
        out = {}
        for t in targets:
            mine = [p for p in points if p.target == t]
            out[t] = ([float(p.clients) for p in mine], [float(getattr(p, attr)) for p in mine])
        return out

    line_plot(
        args.out.with_suffix(".png"),
        "End-to-end search through the gateway",
        "concurrent clients",
        [(label, series(a)) for label, a in (("queries/s", "qps"), ("p50 ms", "p50"), ("p99 ms", "p99"))],
        logx=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

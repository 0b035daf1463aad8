"""Light routes while heavy uploads run: `GET /api/v1/collections` and `/readyz`, idle and under load.

    python -m bench.upload_stall          # 6 uploads at once, each of 3 PNGs of 5000×5000 pixels;
                                          # writes bench/results/upload_stall.md

The full stack runs as processes (private Redis, local storage, the demo model). Each route is
timed one request after another, first idle (the peer), then while every upload is in flight;
the table gives p50 and p99 of each and the p99 ratio. Image work has a pool of its own, so
the routes should stay near their idle latency.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
from pathlib import Path

import httpx

from bench.system import bench_stack, load_average
from deploy.harness.upload_load import StallReport, large_pngs, uploads_with_probes

PATHS = ["/api/v1/collections", "/readyz"]


def results(report: StallReport, uploads: int, per: int, side: int) -> str:
    """What the bench prints and writes: the workload, then a row per route, idle against uploading."""
    mpx = side * side / 1e6
    lines = [
        f"{uploads} uploads at once of {per} PNGs of {mpx:.0f} Mpx each "
        f"({sorted(set(report.upload_status))}), {report.upload_s:.1f} s; load average {load_average()}",
        "",
        "| route | idle p50 ms | idle p99 ms | uploading p50 ms | uploading p99 ms | p99 ratio | requests |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for path in PATHS:
        idle99, busy99 = report.p(path, 99, idle=True), report.p(path, 99)
        lines.append(
            f"| `{path}` | {report.p(path, 50, idle=True):.0f} | {idle99:.0f} | {report.p(path, 50):.0f} "
            f"| {busy99:.0f} | {busy99 / idle99:.1f}× | {len(report.latencies_ms[path])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=6)
    parser.add_argument("--images-per-upload", type=int, default=3)
    parser.add_argument("--side", type=int, default=5000, help="Pixels on each side of an image")
    parser.add_argument("--out", type=Path, default=Path("bench/results/upload_stall.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, bench_stack(Path(tmp)) as stack:
        col = httpx.post(stack.gateway + "/api/v1/collections", json={"name": "bench"}).json()["id"]
        per = args.images_per_upload
        pngs = large_pngs(args.uploads * per, side=args.side, tag=uuid.uuid4().hex)
        batches = [pngs[i : i + per] for i in range(0, len(pngs), per)]
        report = asyncio.run(uploads_with_probes(stack.gateway, {}, col, batches, PATHS))
    text = results(report, args.uploads, per, args.side)
    print(text)
    command = "python -m bench.upload_stall"
    for name, value in vars(args).items():  # the workload, where it is not the default
        if name != "out" and value != parser.get_default(name):
            command += f" --{name.replace('_', '-')} {value}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# Upload stall\n\nCommand: `{command}`\n\n{text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

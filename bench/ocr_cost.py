"""What OCR adds to indexing a collection without text: the stack with OCR off, then on.

    python -m bench.ocr_cost          # 1,000 shape-only scenes, 480×480 PNG; writes bench/results/ocr_cost.md

Each run uploads the same pictures to a new stack (50 per request) and times from the first
upload to the moment every picture is searchable and, with OCR on, every picture has been read
(its `image_text` row carries an OCR time: the catalog is read directly). With OCR on, each
picture's thumbnail goes through the presence check (services/indexer/ocr.py); no scene holds
text, so none is read in full. The peer is the same stack with `INDEXER_OCR_ENABLED=false`; the
ratio is the time with OCR over the time without.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, text

from bench.system import bench_stack, load_average
from deploy.harness.api import accepted_upload, wait_job
from vi_clip_train.vishapes.render import render
from vi_clip_train.vishapes.scene import sample_scene

UPLOAD_FILES = 50


def pictures(folder: Path, n: int, seed: int = 1) -> list[Path]:
    rng = np.random.default_rng([seed, 9])
    out = []
    for i in range(n):
        path = folder / f"{i:05d}.png"
        buf = io.BytesIO()
        render(sample_scene(rng), 480, rng).save(buf, format="PNG")
        path.write_bytes(buf.getvalue())
        out.append(path)
    return out


def _searchable(api: httpx.Client, cid: str) -> int:
    body = api.post("/api/v1/search", json={"query": "hình", "collection_id": cid, "mode": "dense"}).json()
    return int(body["total_candidates"])


def _read(catalog_url: str, cid: str) -> int:
    engine = create_engine(catalog_url)
    try:
        with engine.connect() as c:
            q = "SELECT count(*) FROM image_text WHERE collection_id = :c AND ocr_at IS NOT NULL"
            return int(c.execute(text(q), {"c": cid}).scalar_one())
    finally:
        engine.dispose()


def one_run(paths: list[Path], ocr: bool) -> float:
    with (
        tempfile.TemporaryDirectory() as root,
        bench_stack(Path(root), INDEXER_OCR_ENABLED=str(ocr).lower()) as st,
        httpx.Client(base_url=st.gateway, timeout=120) as api,
    ):
        cid = str(api.post("/api/v1/collections", json={"name": "OCR"}).json()["id"])
        start = time.perf_counter()
        jobs = [
            str(accepted_upload(api, cid, paths[i : i + UPLOAD_FILES])["job_id"])
            for i in range(0, len(paths), UPLOAD_FILES)
        ]
        for job in jobs:
            assert wait_job(api, job)["status"] == "done"
        while _searchable(api, cid) < len(paths) or (ocr and _read(st.catalog_url, cid) < len(paths)):
            if time.perf_counter() - start > 900:
                raise TimeoutError("the collection was not indexed (and read) in time")
            time.sleep(0.05)
        took = time.perf_counter() - start
    print(f"  OCR {'on' if ocr else 'off'}: {took:.1f} s", flush=True)
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench/results/ocr_cost.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        paths = pictures(Path(tmp), args.images)
        off, on = [], []
        for _ in range(args.repeats):  # interleaved, so drift in the machine's load hits both
            off.append(one_run(paths, ocr=False))
            on.append(one_run(paths, ocr=True))
    off_s, on_s = statistics.median(off), statistics.median(on)
    lines = [
        "# OCR cost",
        "",
        "Command: `python -m bench.ocr_cost`",
        "",
        f"{args.images} shape-only scenes (480×480 PNG, no text), upload to searchable (and read), "
        f"median of {args.repeats}; load average {load_average()}",
        "",
        "| indexing | seconds | images/s | vs OCR off |",
        "| --- | ---: | ---: | ---: |",
        f"| OCR off (peer) | {off_s:.1f} | {args.images / off_s:.1f} | 1.00× |",
        f"| OCR on | {on_s:.1f} | {args.images / on_s:.1f} | {on_s / off_s:.2f}× |",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

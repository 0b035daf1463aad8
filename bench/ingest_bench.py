"""Ingestion: images/s from upload to searchable, against the encoder's raw images/s.

    python -m bench.ingest_bench         # writes bench/results/ingest.md and ingest.png
    python -m bench.ingest_bench --tower none    # the demo model only

The raw figure is the demo model's image forward alone (random pixels, the indexer's batch
size, in this process, before the stack starts). The pipeline figure is the wall time from
the first upload request to the moment a search over the collection sees every image:
decoding, thumbnails and storage at upload, the job queue, fetching and decoding again,
the encoder over HTTP, vectors to storage, shard building, publishing, the search
replica loading the new version. Their ratio is what the pipeline costs on top of the model.

The demo model's image forward is tiny (64 px, about 1.5 ms an image on this machine), so on two
shared cores the pipeline's own work dominates it. The same run is repeated with a
production-size image tower (`--tower`, a registry model whose image tower is used; by default
the registry's smallest, `vi-efficientnet-b0-phobert-base`'s efficientnet_b0 at 224 px):
untrained weights, which cost what trained ones do, beside the demo model's text tower, over
the same scenes drawn at the tower's size.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import torch

from bench.encoder_bench import build_runner
from bench.plots import bar_plot
from bench.system import bench_stack, load_average
from deploy.harness.api import accepted_upload as upload
from deploy.harness.api import wait_job
from deploy.harness.fullstack import ShapeImage, demo_model, vishapes

BATCH = 64  # the indexer's default INDEXER_BATCH_SIZE
UPLOAD_FILES = 50  # images per upload request


@dataclass
class Run:
    images: int
    upload_s: float
    jobs_done_s: float
    searchable_s: float

    @property
    def rate(self) -> float:
        return self.images / self.searchable_s


def raw_images_per_s(model: str, repeats: int) -> list[float]:
    """images/s of each of `repeats` timed forwards (after two untimed ones)."""
    args = argparse.Namespace(model=model, device="cpu", dtype="float32", compile=False)
    runner = build_runner(args)
    side = runner.model.image_size
    pixels = [torch.rand(3, side, side) for _ in range(BATCH)]
    rates = []
    for i in range(repeats + 2):
        start = time.perf_counter()
        runner.encode_pixels(pixels)
        if i >= 2:
            rates.append(BATCH / (time.perf_counter() - start))
    return rates


def tower_checkpoint(out: Path, registry_model: str) -> tuple[Path, str, int]:
    """An untrained checkpoint: the image tower of `registry_model` beside the demo model's text
    tower and tokenizer (a pretrained text tower would need the hub; only images are timed)."""
    from vi_clip import create_model, save_checkpoint
    from vi_clip.config import ViClipConfig
    from vi_clip.model import ViClip
    from vi_clip.registry import get_model_config
    from vi_clip.tokenizer import TextPipeline

    demo = create_model(demo_model())
    assert isinstance(demo, ViClip)
    raw = {
        **demo.config.to_dict(),
        "image": {**get_model_config(registry_model)["image"], "pretrained": False},
    }
    cfg = ViClipConfig.from_dict(raw)
    model = ViClip(cfg, TextPipeline(demo.pipeline.tokenizer, cfg.text.segment, cfg.text.max_length))
    save_checkpoint(model.eval(), out, {"note": "untrained: for speed measurements only"})
    return out, str(cfg.image.timm_model), model.image_size


def searchable_count(api: httpx.Client, cid: str) -> int:
    resp = api.post("/api/v1/search", json={"query": "hình tròn", "collection_id": cid, "top_k": 1})
    return int(resp.json()["total_candidates"]) if resp.status_code == 200 else 0


def one_run(api: httpx.Client, shapes: list[ShapeImage], name: str) -> Run:
    cid = api.post("/api/v1/collections", json={"name": name}).json()["id"]
    start = time.perf_counter()
    jobs = []
    for first in range(0, len(shapes), UPLOAD_FILES):
        body = upload(api, cid, [s.path for s in shapes[first : first + UPLOAD_FILES]])
        jobs.append(str(body["job_id"]))
    uploaded = time.perf_counter()
    for job in jobs:
        assert wait_job(api, job)["status"] == "done"
    done = time.perf_counter()
    while searchable_count(api, cid) < len(shapes):
        if time.perf_counter() - done > 120:
            raise TimeoutError("indexed images did not become searchable")
        time.sleep(0.02)
    end = time.perf_counter()
    run = Run(len(shapes), uploaded - start, done - start, end - start)
    print(f"  {name}: {run.rate:.1f} images/s upload to searchable ({run.searchable_s:.1f} s)", flush=True)
    return run


def table(raws: list[float], runs: list[Run]) -> tuple[str, float, float]:
    raw = statistics.median(raws)
    rate = statistics.median(r.rate for r in runs)
    phases = ("upload_s", "jobs_done_s", "searchable_s")
    med = {k: statistics.median(getattr(r, k) for r in runs) for k in phases}
    lines = [
        "| measure | median |",
        "| --- | ---: |",
        f"| encoder forward alone (batch {BATCH}, in process; {len(raws)} forwards, "
        f"range {min(raws):,.0f}–{max(raws):,.0f}) | {raw:,.0f} images/s |",
        f"| upload to searchable, through the gateway | {rate:,.1f} images/s |",
        f"| pipeline / raw encoder | {rate / raw:.3f}× |",
        f"| time: uploads answered | {med['upload_s']:.1f} s |",
        f"| time: jobs done | {med['jobs_done_s']:.1f} s |",
        f"| time: every image searchable | {med['searchable_s']:.1f} s |",
    ]
    return "\n".join(lines), raw, rate


def measure(
    model: str, shapes: list[ShapeImage], storage: Path, runs: int, repeats: int
) -> tuple[str, float, float]:
    """The raw forward's images/s (before the stack starts), then `runs` uploads through it."""
    raws = raw_images_per_s(model, repeats)
    print(f"raw encoder ({model}): {statistics.median(raws):,.0f} images/s", flush=True)
    with (
        bench_stack(storage, ENCODER_MODEL=model) as running,
        httpx.Client(base_url=running.gateway, timeout=300) as api,
    ):
        one_run(api, shapes[:20], "warm-up")  # model, connections and shard code paths warmed
        done = [one_run(api, shapes, f"run {i + 1}") for i in range(runs)]
    return table(raws, done)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--tower",
        default="vi-efficientnet-b0-phobert-base",
        help="registry model whose image tower the second run uses; none: skip it",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/ingest.md"))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    shapes = vishapes(work / "vishapes", args.images)
    text, raw, rate = measure(demo_model(), shapes, work / "storage", args.runs, repeats=30)
    text = (
        f"{args.images} ViShapes-vi PNGs (64×64) per run, {UPLOAD_FILES} per upload request, demo model "
        f"on CPU, 1 indexer, 1 search replica, Redis, local storage; median of {args.runs} runs. "
        f"Shared 2-CPU machine (load average {load_average()} at the end): figures are noisy.\n\n" + text
    )
    bars = {"demo: encoder forward": raw, "demo: upload → searchable": rate}
    if args.tower != "none":
        model, tower, side = tower_checkpoint(work / "tower", args.tower)
        big = vishapes(work / f"vishapes-{side}", args.images, size=side)
        more, big_raw, big_rate = measure(str(model), big, work / "storage-tower", args.runs, repeats=5)
        text += (
            f"\n\n## A production-size image tower: {tower} at {side} px\n\n"
            f"The same pipeline and machine with {args.tower}'s image tower, untrained (the cost of a "
            f"trained one), beside the demo text tower, over the same kind of scenes drawn at "
            f"{side}×{side}; median of {args.runs} runs (load average {load_average()} at the end)."
            "\n\n" + more.replace("| measure |", f"| measure, {tower} |", 1)
        )
        bars |= {f"{tower}: encoder forward": big_raw, f"{tower}: upload → searchable": big_rate}
    print("\n" + text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# Ingestion\n\nCommand: `python -m bench.ingest_bench`\n\n{text}\n")
    bar_plot(args.out.with_suffix(".png"), "Ingestion vs the encoder alone", "images/s", bars)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

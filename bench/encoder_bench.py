"""Encoder: forwards by batch size, a lone query on an idle service, and throughput under concurrent
clients with batching on vs off.

    python -m bench.encoder_bench                      # CPU: vi-tiny, both tables
    python -m bench.encoder_bench --model vi-swin-b-phobert-base --device cuda --dtype bfloat16 \\
        --compile --images-only --batch-sizes 64,256   # GPU: Swin-B images/s against timm's figure

Registered models that name hub weights are built with random weights (`pretrained=False`):
throughput does not depend on the values of the weights.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import torch

from bench.loadgen import Connection
from bench.timing import median_s
from deploy.harness.ready import wait_ready
from deploy.stack import Ports, Stack, free_port, service_specs
from services.common.schemas.encoder import NPY_FLOAT32
from services.encoder.runner import ModelRunner, resolve_dtype
from services.encoder.settings import EncoderSettings

# timm's published inference benchmark for Swin-B/224 (torch.compile, AMP) on an RTX 5090.
TIMM_SWIN_B_IMAGES_PER_S = 3100
TEXT = "một hình tròn màu đỏ nằm ở góc trên bên trái, cạnh một hình vuông xanh"
REPO = Path(__file__).resolve().parents[1]


def build_runner(args: argparse.Namespace) -> ModelRunner:
    from vi_clip import create_model, is_checkpoint_dir, list_models, resolve_device

    device = resolve_device(args.device)
    overrides: dict[str, Any] = {}
    if not is_checkpoint_dir(args.model) and args.model in list_models():
        overrides = {"image": {"pretrained": False}, "text": {"pretrained": False, "tokenizer": "bytelevel"}}
    model = create_model(args.model, device=device, **overrides)
    runner = ModelRunner(
        model, resolve_dtype(args.dtype, device), compile_backend="inductor" if args.compile else None
    )
    runner.warm_up()
    # As the service does with its defaults: one thread for forwards too small to share.
    plan = runner.plan_threads(EncoderSettings.model_fields["parallel_min_ms"].default / 1000, max_items=64)
    if plan is not None:
        print(f"thread plan: {plan.threads} threads from {plan.parallel_from} items, one below")
    return runner


def forward_table(runner: ModelRunner, sizes: list[int], repeats: int, images_only: bool) -> None:
    on_gpu = runner.device.type == "cuda"
    sync = torch.cuda.synchronize if on_gpu else None
    side = runner.model.image_size
    print(f"\n## Forwards: {runner.model.name} on {runner.device} ({runner.dtype}), median of {repeats}")
    print("| batch | texts/s | images/s |\n| ---: | ---: | ---: |")
    for n in sizes:
        pixels = [torch.rand(3, side, side) for _ in range(n)]
        texts = [TEXT] * n
        # Two untimed runs: allocator, autotuning, recompiles for a new shape.
        images = n / median_s(partial(runner.encode_pixels, pixels), repeats, warmup=2, sync=sync)
        encode_texts = partial(runner.encode_texts, texts)
        text_rate = None if images_only else n / median_s(encode_texts, repeats, warmup=2, sync=sync)
        shown = "–" if text_rate is None else f"{text_rate:,.0f}"
        print(f"| {n} | {shown} | {images:,.0f} |")
        if runner.model.name.startswith("vi-swin-b") and on_gpu:
            print(f"|  | Swin-B vs timm (RTX 5090, compiled): {images / TIMM_SWIN_B_IMAGES_PER_S:.2f}× | |")


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def _load(url: str, clients: int, requests: int) -> tuple[float, float]:
    """`clients` connections, each sending single-text requests back to back; requests/s and mean batch."""
    host, port = url.removeprefix("http://").split(":")
    conns = [Connection(host, int(port), accept=NPY_FLOAT32) for _ in range(clients)]

    async def client(k: int, count: int) -> None:
        for i in range(count):
            body = json.dumps({"texts": [f"{TEXT} {k}.{i}"]}).encode()
            status, payload = await conns[k].post_json("/v1/embed/text", body)
            if status != 200:
                raise RuntimeError(f"{status}: {payload[:200]!r}")

    await asyncio.gather(*(client(k, 1) for k in range(clients)))  # open connections, warm caches
    before = httpx.get(url + "/metrics").text
    start = time.perf_counter()
    await asyncio.gather(*(client(k, requests // clients) for k in range(clients)))
    elapsed = time.perf_counter() - start
    after = httpx.get(url + "/metrics").text
    for conn in conns:
        conn.close()
    count, total = 'encoder_batch_size_count{kind="text"}', 'encoder_batch_size_sum{kind="text"}'
    forwards = _metric(after, count) - _metric(before, count)
    items = _metric(after, total) - _metric(before, total)
    return (requests // clients) * clients / elapsed, items / max(forwards, 1)


@contextmanager
def _encoder(model: str, device: str, torch_threads: int, max_wait_ms: float, **env: str) -> Iterator[str]:
    """An encoder service process on a free port, ready; its URL."""
    settings = {
        "ENCODER_MODEL": model,
        "ENCODER_DEVICE": device,
        "ENCODER_MAX_WAIT_MS": str(max_wait_ms),
        "ENCODER_TORCH_THREADS": str(torch_threads),
        "ENCODER_LOG_LEVEL": "warning",
        "STORAGE_LOCAL_ROOT": tempfile.mkdtemp(prefix="encoder-bench-"),
        **env,
    }
    spec = service_specs(Ports(encoder=free_port()), settings)[0]
    with Stack([spec], cwd=str(REPO), echo=False).running(timeout_s=180):
        wait_ready(spec.url, timeout_s=180)
        yield spec.url


def concurrency_table(
    model: str, device: str, clients: int, requests: int, max_wait_ms: float, torch_threads: int
) -> None:
    print(f"\n## Service: {clients} concurrent clients, one text per request, {requests} requests")
    print("| batching | requests/s | mean batch |\n| --- | ---: | ---: |")
    results = {}
    for batching in (True, False):
        with _encoder(
            model, device, torch_threads, max_wait_ms, ENCODER_BATCHING=str(batching).lower()
        ) as url:
            rate, batch = asyncio.run(_load(url, clients, requests))
        results[batching] = rate
        print(f"| {'on' if batching else 'off'} | {rate:,.1f} | {batch:.1f} |")
    print(f"\nbatching ratio (on / off): {results[True] / results[False]:.1f}×")


async def _sequential_p50_ms(url: str, requests: int) -> float:
    """One client, one text per request, each sent when the last answered: what an idle service costs."""
    host, port = url.removeprefix("http://").split(":")
    conn = Connection(host, int(port), accept=NPY_FLOAT32)
    times = []
    try:
        for i in range(requests + 20):  # 20 untimed: connection, caches, the model thread
            body = json.dumps({"texts": [f"{TEXT} {i}"]}).encode()
            start = time.perf_counter()
            status, payload = await conn.post_json("/v1/embed/text", body)
            if status != 200:
                raise RuntimeError(f"{status}: {payload[:200]!r}")
            if i >= 20:
                times.append(time.perf_counter() - start)
    finally:
        conn.close()
    return statistics.median(times) * 1000


def _spaced_forward_ms(runner: ModelRunner, gap_s: float, requests: int) -> float:
    """The in-process forward of one text, each after `gap_s` of idling: what the service's model
    thread sees between one client's requests. On a virtual machine an idle CPU is slow to pick
    up again (caches and clocks), so a forward after a gap can take twice one in a tight loop."""
    times = []
    for i in range(requests + 10):
        time.sleep(gap_s)
        start = time.perf_counter()
        runner.encode_texts([f"{TEXT} {i}"])
        if i >= 10:
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def idle_table(runner: ModelRunner, model: str, device: str, requests: int, torch_threads: int) -> None:
    """A lone query against the in-process forward of one text, with and without a batching wait.

    The forward is timed twice: back to back, and each after the idle gap the service's model
    thread has between one client's requests (the service's p50 less the forward), so what the
    service adds (HTTP, batching, the hand-off to the model thread) is read against both."""
    print(f"\n## Idle: one text per request, one client, median of {requests}")
    forward_ms = median_s(partial(runner.encode_texts, [TEXT]), max(requests, 50), warmup=10) * 1000
    services = []
    for wait_ms in (0.0, 5.0):
        with _encoder(model, device, torch_threads, wait_ms) as url:
            services.append((wait_ms, asyncio.run(_sequential_p50_ms(url, requests))))
    gap_ms = max(services[0][1] - forward_ms, 0.0)
    spaced_ms = _spaced_forward_ms(runner, gap_ms / 1000, requests)
    print("| path | p50 ms | above the forward | above the idle-spaced forward |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| in-process forward | {forward_ms:.2f} | – | – |")
    print(f"| in-process forward, each after {gap_ms:.2f} ms idle | {spaced_ms:.2f} | – | – |")
    for wait_ms, p50 in services:
        print(
            f"| service, ENCODER_MAX_WAIT_MS={wait_ms:g} | {p50:.2f} | +{p50 - forward_ms:.2f} ms "
            f"| +{p50 - spaced_ms:.2f} ms |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="vi-tiny", help="registered name or checkpoint directory")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"])
    parser.add_argument("--compile", action="store_true", help="torch.compile the towers (inductor)")
    parser.add_argument("--batch-sizes", default="1,8,32,64")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--images-only", action="store_true")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=1024, help="requests per batching mode")
    parser.add_argument("--max-wait-ms", type=float, default=0.0)
    parser.add_argument("--torch-threads", type=int, default=0, help="0: torch's default")
    parser.add_argument("--idle-requests", type=int, default=300, help="sequential requests, idle table")
    parser.add_argument("--skip-forwards", action="store_true")
    parser.add_argument("--skip-service", action="store_true")
    args = parser.parse_args(argv)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, python {sys.version.split()[0]}")
    if not args.skip_forwards:
        sizes = [int(s) for s in args.batch_sizes.split(",")]
        forward_table(build_runner(args), sizes, args.repeats, args.images_only)
    if not args.skip_service:
        runner = build_runner(args)
        idle_table(runner, args.model, args.device, args.idle_requests, args.torch_threads)
        del runner
        concurrency_table(
            args.model, args.device, args.clients, args.requests, args.max_wait_ms, args.torch_threads
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

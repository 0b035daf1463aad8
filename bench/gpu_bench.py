"""GPU benchmarks against the device's physical limits (run by `bench/gpu.sh` on one H200).

    python -m bench.gpu_bench                       # CUDA, the full sizes, writes bench/results/gpu.md
    python -m bench.gpu_bench --device cpu --model vi-tiny --batch 8 --vectors 20000   # smoke run

1. The device itself: memory copy (GB/s) and bf16 matmul (TFLOP/s), next to the H200 figures
   measured on that machine (about 4.3 TB/s and 790 TFLOP/s).
2. Encoder images/s for `vi-swin-b-phobert-base` (random weights: nothing is downloaded, and
   throughput does not depend on weight values) in bf16 at batch 256: the model forward with
   pixels already on the device, and the service path (stack, pin, copy, forward, copy back).
3. Exact (flat) search over 1M×512 bf16 unit vectors with torch (a matmul, then top-k), at
   batch 1 (bound by reading every vector) and 1024 (bound by the matmul), with recall@10 of
   the bf16 search against float32.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import torch

from bench.timing import median_s

H200_COPY_TB_S = 4.3  # measured on the H200 machine (read + write)
H200_BF16_TFLOP_S = 790.0  # measured there, dense bf16 matmul
SWIN_B_GMACS = 15.5  # timm's figure for swin_base_patch4_window7_224 (one 224² image)
K = 10


def device_sync(device: torch.device) -> Callable[[], None] | None:
    """What `median_s` calls after each timed call so the time covers the device's queued work."""
    return (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else None


def device_limits(device: torch.device, copy_gib: float, matmul_n: int) -> tuple[float, float]:
    """(copy GB/s counting read + write, bf16 matmul TFLOP/s)."""
    src = torch.empty(int(copy_gib * 2**30) // 2, dtype=torch.bfloat16, device=device).fill_(1)
    dst = torch.empty_like(src)
    copy_s = median_s(lambda: dst.copy_(src), 10, warmup=2, sync=device_sync(device))
    copy_gb_s = 2 * src.numel() * src.element_size() / copy_s / 1e9
    a = torch.randn(matmul_n, matmul_n, dtype=torch.bfloat16, device=device)
    b = torch.randn(matmul_n, matmul_n, dtype=torch.bfloat16, device=device)
    mm_s = median_s(lambda: a @ b, 20, warmup=5, sync=device_sync(device))
    return copy_gb_s, 2 * matmul_n**3 / mm_s / 1e12


def encoder_rates(model_name: str, device: torch.device, batch: int, repeats: int) -> tuple[float, float]:
    """(forward images/s with pixels on the device, service-path images/s from CPU tensors)."""
    from bench.encoder_bench import build_runner

    args = argparse.Namespace(model=model_name, device=str(device), dtype="bfloat16", compile=False)
    runner = build_runner(args)
    side = runner.model.image_size
    on_device = torch.rand(batch, 3, side, side, device=device)
    on_host = list(torch.rand(batch, 3, side, side))

    def forward() -> None:
        with torch.inference_mode(), torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            runner.model.encode_image(on_device)

    forward_s = median_s(forward, repeats, warmup=2, sync=device_sync(device))
    service_s = median_s(lambda: runner.encode_pixels(on_host), repeats, warmup=2, sync=device_sync(device))
    return batch / forward_s, batch / service_s


def flat_search(
    device: torch.device, n: int, dim: int, batches: list[int], repeats: int
) -> list[tuple[int, float, float]]:
    """(batch, queries/s, recall@10 of bf16 against float32) for each batch size."""
    gen = torch.Generator(device=device).manual_seed(0)
    x32 = torch.nn.functional.normalize(torch.randn(n, dim, device=device, generator=gen), dim=1)
    x = x32.to(torch.bfloat16)
    out = []
    for batch in batches:
        q32 = torch.nn.functional.normalize(torch.randn(batch, dim, device=device, generator=gen), dim=1)
        q = q32.to(torch.bfloat16)

        def search(q: torch.Tensor = q) -> torch.Tensor:
            return torch.topk(q @ x.T, K, dim=1).indices

        seconds = median_s(search, repeats, warmup=2, sync=device_sync(device))
        found = search()[:16]
        truth = torch.topk(q32[:16] @ x32.T, K, dim=1).indices
        recall = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
        out.append((batch, batch / seconds, recall / (K * len(found))))
    return out


def report(args: argparse.Namespace, device: torch.device) -> str:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    copy_gb_s, tflop_s = device_limits(device, args.copy_gib, args.matmul_n)
    lines = [
        f"{name}, torch {torch.__version__}. Medians of {args.repeats} timed runs after warm-up.",
        "",
        "| device limit | measured here | H200 reference | fraction |",
        "| --- | ---: | ---: | ---: |",
        f"| memory copy (read + write) | {copy_gb_s / 1000:.2f} TB/s | {H200_COPY_TB_S} TB/s "
        f"| {copy_gb_s / 1000 / H200_COPY_TB_S:.0%} |",
        f"| bf16 matmul {args.matmul_n}² | {tflop_s:.0f} TFLOP/s | {H200_BF16_TFLOP_S:.0f} TFLOP/s "
        f"| {tflop_s / H200_BF16_TFLOP_S:.0%} |",
    ]
    print("\n".join(lines), flush=True)
    encoder_start = len(lines)
    forward, service = encoder_rates(args.model, device, args.batch, args.repeats)
    flops = 2 * SWIN_B_GMACS * 1e9
    lines += [
        "",
        f"| encoder, {args.model}, bf16, batch {args.batch} | images/s | matmul-peak use |",
        "| --- | ---: | ---: |",
        f"| forward, pixels on the device | {forward:,.0f} | "
        f"{forward * flops / (H200_BF16_TFLOP_S * 1e12):.1%} at {SWIN_B_GMACS} GMACs/image |",
        f"| service path (host tensors in, vectors out) | {service:,.0f} | |",
        "",
        "timm's Swin-B/224 figure: about 3,100 images/s compiled with AMP on an RTX 5090 "
        f"(this run is not compiled): forward {forward / 3100:.2f}× that.",
    ]
    print("\n".join(lines[encoder_start:]), flush=True)
    del_cache(device)
    rows = flat_search(device, args.vectors, args.dim, [1, 1024], args.repeats)
    read_bytes = args.vectors * args.dim * 2
    flat_start = len(lines)
    lines += [
        "",
        f"| flat search, {args.vectors:,}×{args.dim} bf16, top-{K} | q/s | ceiling q/s | fraction "
        "| recall@10 vs fp32 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for batch, qps, recall in rows:
        # batch 1 reads every vector once; a large batch is bound by the matmul's 2·n·d flops a query
        bandwidth_qps = H200_COPY_TB_S * 1e12 / read_bytes * batch  # the copy figure is all traffic
        compute_qps = H200_BF16_TFLOP_S * 1e12 / (2 * args.vectors * args.dim)
        ceiling = min(bandwidth_qps, compute_qps)
        bound = "memory" if bandwidth_qps < compute_qps else "matmul"
        lines.append(
            f"| batch {batch} ({bound}-bound) | {qps:,.0f} | {ceiling:,.0f} | {qps / ceiling:.0%} "
            f"| {recall:.3f} |"
        )
    print("\n".join(lines[flat_start:]), flush=True)
    return "\n".join(lines)


def del_cache(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", default="vi-swin-b-phobert-base")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--copy-gib", type=float, default=4.0)
    parser.add_argument("--matmul-n", type=int, default=8192)
    parser.add_argument("--out", type=Path, default=Path("bench/results/gpu.md"))
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run this on the GPU machine, or pass --device cpu for a smoke run")
    torch.backends.cuda.matmul.allow_tf32 = True
    text = report(args, device)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# GPU benchmark\n\nCommand: `bench/gpu.sh`\n\n{text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

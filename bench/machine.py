"""The machine's physical limits, measured: memory bandwidth by a large copy, GFLOP/s by a matmul.

    python -m bench.machine          # prints both and writes bench/results/machine.md

Every search figure in the other tables can then be read as a fraction of what the machine
could do: exact search over n×d float32 vectors must read 4·n·d bytes per batch, so its
queries/s are bounded by bandwidth (one query at a time) or by GFLOP/s (large batches).
"""

from __future__ import annotations

import argparse
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.timing import median_s


@dataclass(frozen=True)
class Machine:
    cpus: int
    copy_gb_s: float  # bytes read plus bytes written, per second
    matmul_gflop_s: float

    def bandwidth_bound_qps(self, n: int, dim: int) -> float:
        """Single-query exact search ceiling: every vector read once per query."""
        return self.copy_gb_s * 1e9 / (4.0 * n * dim)

    def compute_bound_qps(self, n: int, dim: int) -> float:
        """Batched exact search ceiling: 2·n·d flops per query."""
        return self.matmul_gflop_s * 1e9 / (2.0 * n * dim)


def measure(copy_mb: int = 512, matmul_n: int = 2048, repeats: int = 7) -> Machine:
    src = np.ones(copy_mb * 2**20 // 8, dtype=np.float64)
    dst = np.empty_like(src)
    copy_s = median_s(lambda: np.copyto(dst, src), repeats)
    a = np.random.default_rng(0).standard_normal((matmul_n, matmul_n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((matmul_n, matmul_n), dtype=np.float32)
    mm_s = median_s(lambda: a @ b, repeats)
    return Machine(
        cpus=os.cpu_count() or 1,
        copy_gb_s=2 * src.nbytes / copy_s / 1e9,
        matmul_gflop_s=2 * matmul_n**3 / mm_s / 1e9,
    )


def flat_search_qps(n: int, dim: int, queries: int = 256) -> tuple[float, float]:
    """FAISS exact search (IndexFlatIP): one query at a time on one thread, and one batch."""
    import faiss

    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, dim), dtype=np.float32)
    q = rng.standard_normal((queries, dim), dtype=np.float32)
    index = faiss.IndexFlatIP(dim)
    index.add(x)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    single = 1 / median_s(lambda: index.search(q[:1], 10), 25)
    faiss.omp_set_num_threads(threads)
    batch = queries / median_s(lambda: index.search(q, 10), 3)
    return single, batch


def table(m: Machine, n: int = 200_000, dim: int = 512) -> str:
    single, batch = flat_search_qps(n, dim)
    bw, fl = m.bandwidth_bound_qps(n, dim), m.compute_bound_qps(n, dim)
    return "\n".join(
        [
            f"{platform.processor() or platform.machine()}, {m.cpus} CPUs, numpy {np.__version__}; "
            f"load average {os.getloadavg()[0]:.1f} when measured (shared machine: figures are noisy).",
            "",
            "| measure | value |",
            "| --- | ---: |",
            f"| memory copy (read + write) | {m.copy_gb_s:.1f} GB/s |",
            f"| float32 matmul | {m.matmul_gflop_s:.1f} GFLOP/s |",
            "",
            f"Exact search over {n:,}×{dim} float32 vectors against those limits: one query must read "
            f"every vector ({4 * n * dim / 1e6:.0f} MB, bandwidth-bound); a large batch does "
            f"2·n·d flops per query (compute-bound).",
            "",
            "| search | ceiling q/s | FAISS Flat q/s | fraction of the limit |",
            "| --- | ---: | ---: | ---: |",
            f"| 1 query, 1 thread (memory bandwidth) | {bw:,.0f} | {single:,.0f} | {single / bw:.0%} |",
            f"| batch of 256, all threads (matmul) | {fl:,.0f} | {batch:,.0f} | {batch / fl:.0%} |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/machine.md"))
    args = parser.parse_args(argv)
    text = table(measure())
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"# Machine\n\nCommand: `python -m bench.machine`\n\n{text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

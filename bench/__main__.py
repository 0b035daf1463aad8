"""`python -m bench` (`make bench`): every benchmark, its tables in bench/results/*.md, plots as
PNG, and one bench/results/README.md that collects them; then the figures of README.md's
Benchmarks section are rendered again from those files (`python -m bench.readme`).

Each benchmark runs as its own process, one after another (on a small machine two at once
would measure each other). The settings keep the whole run near 15 minutes on 2 CPUs; the
catalog at 1,000,000 records on both backends takes 5 of them, filtered search 3.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import readme
from bench.plots import bar_plot
from bench.tables import number, rows

RESULTS = Path("bench/results")


@dataclass(frozen=True)
class Bench:
    name: str
    title: str
    argv: list[str]
    writes_own: bool  # False: the table is what it prints, kept here as <name>.md


BENCHES = [
    Bench("machine", "Machine", ["-m", "bench.machine"], True),
    Bench("e2e", "End-to-end search", ["-m", "bench.e2e_bench"], True),
    Bench("ingest", "Ingestion", ["-m", "bench.ingest_bench"], True),
    Bench("upload_stall", "Upload stall", ["-m", "bench.upload_stall"], True),
    Bench("encoder", "Encoder", ["-m", "bench.encoder_bench"], False),
    Bench("index", "Index", ["-m", "bench.index_bench"], True),
    Bench("deletes", "Deletions", ["-m", "bench.deletes_bench"], False),
    Bench("catalog", "Catalog", ["-m", "bench.catalog_bench", "--records", "1000000"], True),
    Bench("filtered_search", "Filtered search", ["-m", "bench.filtered_search_bench"], False),
    Bench("ocr_cost", "OCR cost", ["-m", "bench.ocr_cost"], True),
    Bench("collections", "Many collections", ["-m", "bench.collections_bench"], True),
    Bench("bulk", "Bulk embedding on Ray", ["-m", "bench.bulk_bench"], True),
    Bench("scale", "A million vectors", ["-m", "bench.scale", "--vectors", "1000000"], True),
]


def plot_printed_tables() -> None:
    """Plots for the tables the encoder and index benchmarks print."""
    encoder = RESULTS / "encoder.md"
    if encoder.exists():
        forwards = rows(encoder.read_text(), "batch")
        bars = {f"batch {r[0]}": number(r[2]) for r in forwards if r[0].isdigit()}
        bar_plot(RESULTS / "encoder.png", "Encoder image forwards (CPU)", "images/s",
                 {k: v for k, v in bars.items() if v is not None})  # fmt: skip
    index = RESULTS / "index.md"
    if index.exists():
        methods = rows(index.read_text(), "method")
        bars = {r[0].replace("FAISS ", "").split(",Refine")[0]: number(r[7]) for r in methods}
        reached = {k: v for k, v in bars.items() if v is not None}  # "not reached" rows are left out
        bar_plot(RESULTS / "index.png", "Single-query q/s at recall@10 ≥ 0.95, 200k×512", "queries/s",
                 reached, log=True)  # fmt: skip


def run(bench: Bench) -> float:
    start = time.perf_counter()
    print(f"== {bench.title}: python {' '.join(bench.argv)}", flush=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, *bench.argv], env=env, stdout=subprocess.PIPE, text=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        raise SystemExit(f"{bench.name} failed with exit code {proc.returncode}")
    if not bench.writes_own:
        command = "python " + " ".join(bench.argv)
        (RESULTS / f"{bench.name}.md").write_text(
            f"# {bench.title} benchmark\n\nCommand: `{command}`\n\n{proc.stdout.strip()}\n"
        )
    return time.perf_counter() - start


def combined(durations: dict[str, float]) -> str:
    parts = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python -m bench`) on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}, {time.strftime('%Y-%m-%d')}. The machine is shared: its "
        f"load average was {os.getloadavg()[0]:.1f} at the end, so every figure is noisy; tables give "
        "medians, and ratios against the named peer say more than absolutes.",
        "",
        "| benchmark | seconds |",
        "| --- | ---: |",
        *(f"| {name} | {s:.0f} |" for name, s in durations.items()),
    ]
    for bench in BENCHES:
        md = RESULTS / f"{bench.name}.md"
        if not md.exists():
            continue
        body = md.read_text().split("\n", 1)[1].strip()
        parts += ["", f"## {bench.title}", "", body]
        if (RESULTS / f"{bench.name}.png").exists():
            parts += ["", f"![{bench.title}]({bench.name}.png)"]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated names: " + ",".join(b.name for b in BENCHES))
    args = parser.parse_args(argv)
    chosen = set(args.only.split(",")) if args.only else {b.name for b in BENCHES}
    RESULTS.mkdir(parents=True, exist_ok=True)
    durations = {b.name: run(b) for b in BENCHES if b.name in chosen}
    plot_printed_tables()
    (RESULTS / "README.md").write_text(combined(durations))
    print(f"\nwrote {RESULTS}/README.md in {sum(durations.values()) / 60:.1f} min")
    readme.main(["--write", "README.md"])  # the README's Benchmarks section, from the same files
    print("refreshed the Benchmarks section of README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

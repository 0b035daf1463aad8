"""The scale bench runs end to end (at 20,000 vectors): import, publish, load, search, restart, peers."""

from __future__ import annotations

import re
from pathlib import Path

from bench import scale


def value(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found is not None, f"no {pattern!r} in:\n{text}"
    return found[1]


def test_scale_bench_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "scale.md"
    argv = ["--vectors", "20000", "--queries", "30", "--centres", "64", "--seconds", "1", "--out", str(out)]
    assert scale.main(argv) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Search at scale\n\nCommand: `python -m bench.scale --vectors 20000`")
    # 20,000 rows in 4 shards stay exact (Flat): every served top 10 is the true one.
    assert float(value(r"\| recall@10 of served results \| ([0-9.]+) \|", text)) == 1.0
    for target in ("new query, 1 clients", "new query, 16 clients", "repeated query, 1 clients"):
        assert value(rf"\| {target}: q/s \(errors\) \| [0-9.]+ \((\d+)\) \|", text) == "0"
    assert float(value(r"\| replica memory per vector KB \| ([0-9.]+) \|", text)) > 1.0  # 256 floats at least
    assert float(value(r"\| hnswlib M=16, ef \d+ \(built in \d+ s\) \| ([0-9.]+) \|", text)) >= 0.95

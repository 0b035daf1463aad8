"""The README's benchmark figures are rendered from bench/results/*.md and kept current."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import readme, upload_stall
from bench.readme import END, START, LayoutError, readme_section, render, replace_section
from bench.tables import records, rows
from deploy.harness.upload_load import StallReport

REPO = Path(__file__).resolve().parents[3]

# Result files as the benchmarks write them, cut down, with figures easy to find again.
SAMPLES = Path(__file__).parent / "sample_results"
FILES = {path.stem: path.read_text(encoding="utf-8") for path in SAMPLES.glob("*.md")}
IDLE = FILES.pop("encoder_idle")  # the encoder's idle table, which older files lack


def results_folder(tmp_path: Path, **texts: str | None) -> Path:
    """The hand-made result files, with `texts` replacing (or, as `None`, removing) some."""
    folder = tmp_path / "results"
    folder.mkdir()
    for name, text in {**FILES, **texts}.items():
        if text is not None:
            (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def stall_file() -> str:
    report = StallReport(
        upload_status=[202],
        latencies_ms={"/api/v1/collections": [40.0] * 98 + [120.0] * 2, "/readyz": [3.0] * 100},
        idle_ms={"/api/v1/collections": [5.0] * 29 + [12.0], "/readyz": [2.0] * 30},
        upload_s=14.2,
    )
    text = upload_stall.results(report, uploads=4, per=2, side=4000)
    return f"# Upload stall\n\nCommand: `python -m bench.upload_stall --uploads 4`\n\n{text}\n"


def test_readme_figures_are_the_committed_results() -> None:
    section = readme_section((REPO / "README.md").read_text(encoding="utf-8"))
    rendered = render(REPO / "bench" / "results")
    assert section == rendered, (
        "README.md's Benchmarks figures differ from bench/results/*.md; "
        "run: python -m bench.readme --write README.md"
    )


def test_tables_are_read_by_header_across_comment_lines() -> None:
    text = FILES["filtered_search"]
    allowed = [(r["vectors"], r["allowed"]) for r in records(text, "vectors |")]
    assert allowed[1:4] == [("200,000", "100"), ("200,000", "2,000"), ("200,000", "20,000")]
    assert len(allowed) == 5  # the comments inside the table do not end it
    assert rows(FILES["encoder"], "batching |") == [["on", "679.2", "31.6"], ["off", "234.9", "1.0"]]
    assert rows(FILES["index"], "method |")[2][6:] == ["not reached", "", ""]
    assert records(text, "no such header") == []


def test_figures_come_from_each_file(tmp_path: Path) -> None:
    out = render(results_folder(tmp_path))
    assert "shared 4-CPU machine (load average 0.5–9.5 during the runs)" in out
    assert "(90 images, top_k 7)" in out
    # cache rows at the fewest and most clients, the bare peer only as their ratio
    e2e = [line for line in out.splitlines() if line.startswith("| cache ")]
    assert e2e == [
        "| cache hit | 1 | 500 | 0.42 | 1.7 | 0.50× |",
        "| cache hit | 16 | 1,200 | 31.0 | 159 | 0.60× |",
        "| cache miss | 1 | 46 | 21.4 | 28.4 | 0.05× |",
        "| cache miss | 16 | 53 | 581 | 1,876 | 0.03× |",
    ]
    assert "| bare FastAPI |" not in out
    figures = dict(line.strip("| ").split(" | ") for line in out.splitlines() if line.count(" | ") == 1)
    assert figures["ingestion, upload to searchable / the encoder alone (batch 32, in process)"] == (
        "100 / 400 images/s (0.25×)"
    )
    tower = "ingestion, upload to searchable / the encoder alone"
    tower += ", efficientnet_b0 image tower at 224 px, untrained"
    assert figures[f"{tower} (batch 32, in process)"] == "14 / 22 images/s (0.66×)"
    assert figures["encoder, 48 clients sending one text each, batching on / off"] == (
        "679 / 235 requests/s (2.9×, mean batch 32)"
    )
    assert figures["index, 50k×128 clustered, single query at recall@10 0.95"] == (
        "HNSW16 1,886 q/s, 52.4× FAISS Flat"
    )
    assert figures["FAISS Flat vs this machine's limits (11.1 GB/s copy, 22.2 GFLOP/s matmul)"] == (
        "80% of memory bandwidth (1 query), 25% of matmul (batch of 256)"
    )
    assert figures[
        "deleting 40 of 100 images (`python -m bench.deletes_bench`), folded vs one publish per delete"
    ] == ("3 vs 40 publishes; index 1 version, 0.11 MiB vs 41 versions, 0.64 MiB")
    flat = " ".join(out.split())  # the prose, unwrapped
    assert "Catalog at 20k records (`python -m bench.catalog_bench --records 20000 --backends sqlite`" in flat
    assert "against the bars of the catalog plan (p50)" in flat
    assert "(load average 1.0, 0.9, 0.8 at the end, so the p99s are noisy)" in flat
    assert "Loading them took 4.5 s on SQLite (executemany)." in flat
    assert "resolve of a 2% camera filter" in flat
    catalog = [line.split(" | ")[0] for line in out.splitlines() if " | sqlite | " in line]
    assert catalog == [
        "| hydrate 20 results: get_image_details",
        "| count a collection",
        "| matching_ids: camera in 1 collection (180 ids, 2.04%)",
    ]
    # the largest Flat size, the allow-list nearest 1% of it
    assert (
        "(`python -m bench.filtered_search_bench`, 64-d, one query on one thread; "
        "[bench/results/filtered_search.md](bench/results/filtered_search.md)): over 200,000 Flat rows, "
        "2,000 allowed ids cost 1.11 ms p50 against 8.00 ms unfiltered (0.14×)."
    ) in flat
    assert "then 1 shard against 3 shards over HTTP:" in flat
    assert "| FAISS HNSW16 | 23.8 | 600 | efSearch=128 |" in out
    assert "| 1 shard, 1 replica | IVF1024,Flat |" in out
    assert all(len(line) <= readme.WIDTH or line.startswith("|") or "`" in line for line in out.splitlines())


def test_missing_files_say_how_to_measure_them(tmp_path: Path) -> None:
    out = render(results_folder(tmp_path, upload_stall=None, catalog=None))
    stall = next(line for line in out.splitlines() if "GET /api/v1/collections" in line)
    assert stall.endswith("| not measured yet — run `python -m bench.upload_stall` |")
    assert "Catalog: not measured yet — run `python -m bench.catalog_bench`." in out
    assert "encoder, one text when idle" not in out  # an encoder file without the idle table
    assert "not measured yet" in render(tmp_path / "empty")


def test_the_idle_encoder_table_and_the_upload_stall_file_when_present(tmp_path: Path) -> None:
    out = render(results_folder(tmp_path, encoder=FILES["encoder"] + "\n" + IDLE, upload_stall=stall_file()))
    assert (
        "| encoder, one text when idle: service p50 vs in-process forward "
        "| 5.32 vs 2.61 ms (+2.71 ms, `ENCODER_MAX_WAIT_MS=0`) |"
    ) in out
    stall = next(line for line in out.splitlines() if "GET /api/v1/collections" in line)
    assert stall.startswith(
        "| `GET /api/v1/collections` p99 while 4 uploads of 2×16 Mpx PNGs run "
        "(`python -m bench.upload_stall --uploads 4`) | 120 ms (idle 12 ms, 10.0×) at load average "
    )


SPACED_IDLE = """## Idle: one text per request, one client, median of 300
| path | p50 ms | above the forward | above the idle-spaced forward |
| --- | ---: | ---: | ---: |
| in-process forward | 1.27 | – | – |
| in-process forward, each after 1.76 ms idle | 2.01 | – | – |
| service, ENCODER_MAX_WAIT_MS=0 | 3.03 | +1.76 ms | +1.02 ms |
| service, ENCODER_MAX_WAIT_MS=5 | 9.91 | +8.64 ms | +7.90 ms |
"""


def test_the_idle_table_with_the_idle_spaced_forward(tmp_path: Path) -> None:
    out = render(results_folder(tmp_path, encoder=FILES["encoder"] + "\n" + SPACED_IDLE))
    assert (
        "| encoder, one text when idle: service p50 vs in-process forward | 3.03 vs 1.27 ms (+1.76 ms; "
        "+1.02 ms above the same forward each after 1.76 ms idle (2.01 ms), `ENCODER_MAX_WAIT_MS=0`) |"
    ) in out


def test_a_file_of_another_layout_is_an_error_that_names_it(tmp_path: Path) -> None:
    changed = FILES["deletes"].replace("| mode | publishes |", "| how | publishes |")
    with pytest.raises(
        LayoutError, match=r"deletes\.md: no table whose header starts with '\| mode \| publishes'"
    ):
        render(results_folder(tmp_path, deletes=changed))


def test_write_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = results_folder(tmp_path)
    page = tmp_path / "README.md"
    page.write_text(f"# Title\n\n## Benchmarks\n\n{START}\nold figures\n{END}\n\n## Next\n", encoding="utf-8")
    argv = ["--results", str(folder)]
    assert readme.main(["--check", str(page), *argv]) == 1
    assert f"run: python -m bench.readme --write {page}" in capsys.readouterr().err
    assert readme.main(["--write", str(page), *argv]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# Title\n\n## Benchmarks\n\n{START}\nTables and plots:")
    assert text.endswith(f"{END}\n\n## Next\n")
    assert readme.main(["--check", str(page), *argv]) == 0
    assert replace_section(text, render(folder)) == text
    with pytest.raises(ValueError, match="bench-results"):
        readme_section("no markers here")


def test_the_bulk_embedding_figure(tmp_path: Path) -> None:
    out = render(results_folder(tmp_path))
    line = next(row for row in out.splitlines() if row.startswith("| bulk embedding on Ray Data"))
    assert line == (
        "| bulk embedding on Ray Data, 2,000 images on cpu (`python -m bench.bulk_bench --runs 2`), "
        "steady / in-process forward at the same threads | S3 server, 1 actor: 70 / 500 (0.14×); "
        "S3 server, 2 actors: 72 / 900 (0.08×); folder, local storage, 1 actor: 400 / 500 (0.80×); "
        "folder, local storage, 2 actors: 700 / 900 (0.78×); S3 server ceiling 75 images/s, "
        "reached 0.96× at load average 2.1 |"
    )
    (tmp_path / "unmeasured").mkdir()
    missing = render(results_folder(tmp_path / "unmeasured", bulk=None))
    assert "| not measured yet — run `python -m bench.bulk_bench` |" in missing

"""The catalog benchmark end to end at 2,000 records on SQLite, and the library it loads."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from bench import catalog_bench
from bench.catalog_records import generate, load
from services.common.catalog import open_catalog
from services.common.settings import CatalogSettings, StorageSettings
from services.common.storage import open_store

OPERATIONS = [
    "hydrate 20 results: get_image_details",
    "hydrate 20 results: get_images",
    "count a collection",
    "list a page: first",
    "list a page: cursor deep in",
    "matching_ids: camera in 1 collection",
    "count_matching: camera in 1 collection",
    "matching_ids: 1 month, all",
    "count_matching: 1 month, all",
    "filtered search: camera filter + Flat segment",
]


def test_the_bench_writes_a_row_per_operation_with_its_bar(tmp_path: Path) -> None:
    out = tmp_path / "catalog.md"
    argv = ["--records", "2000", "--backends", "sqlite", "--repeats", "8", "--out", str(out)]
    assert catalog_bench.main(argv) == 0
    text = out.read_text()
    assert "Command: `python -m bench.catalog_bench --records 2000 --backends sqlite`" in text
    rows = [
        line.split(" | ") for line in text.splitlines() if line.startswith("| ") and " | sqlite | " in line
    ]
    timed = [r for r in rows if len(r) == 7]
    assert [r[0].lstrip("| ").split(" (")[0].rsplit(" of ", 1)[0] for r in timed] == OPERATIONS
    for op, _, p50, p99, calls, bar, ratio in timed:
        assert 0 < float(p50) <= float(p99), op
        assert int(calls) >= 8
        if op.startswith(("| hydrate", "| count a", "| list")):
            assert bar.startswith("≤ ") and ratio.rstrip(" |").endswith("×")
        else:
            assert bar == "none set"
    load_row = next(line for line in text.splitlines() if line.startswith("| sqlite | "))
    assert float(load_row.split(" | ")[1]) > 0  # seconds to load the 2,000 rows


def test_the_loaded_library_matches_its_counters_and_filters(tmp_path: Path) -> None:
    lib = generate(2000, seed=1)
    store = open_store(StorageSettings(backend="local", local_root=tmp_path / "storage"))
    catalog = open_catalog(CatalogSettings(url=f"sqlite:///{tmp_path / 'catalog.db'}"), store)
    try:
        load(catalog, lib, seed=1)
        for cid in lib.collection_ids:
            assert catalog.count_images(cid) == len(catalog.image_ids(cid))
        assert sum(catalog.count_images(cid) for cid in lib.collection_ids) == 2000
        by_camera, expected = catalog_bench.camera_filter(lib)
        assert catalog.count_matching(by_camera) == expected > 0
        by_month, expected = catalog_bench.month_filter(lib)
        assert len(catalog.matching_ids(by_month)) == expected > 0
        record = next(iter(catalog.get_images(lib.image_ids[:1]).values()))
        assert record.filename == unicodedata.normalize("NFC", record.filename)
        assert lib.albums > 0 and lib.tags == 100
    finally:
        catalog.sessions.dispose()

"""Catalog benchmark: the gateway's catalog queries over a million image records, on both backends.

    python -m bench.catalog_bench --records 1000000 --backends sqlite,postgres

For each backend a fresh database (SQLite in a temporary folder; PostgreSQL: a new database on
127.0.0.1:5432, or on a private server when that does not answer, dropped at the end), migrated,
then loaded in bulk (`bench.catalog_records`: executemany on SQLite, COPY on PostgreSQL). Then
each operation is called repeatedly with fresh arguments (other ids, collections, cursors), each
call timed alone, through `Catalog` as the gateway calls it:

- hydrate 20 results: `get_image_details` of 20 random ids, what the gateway reads for a result
  page (records, albums and tags in one read), and `get_images`, the records alone;
- count a collection: `count_images`, the collection's counter;
- list a page (100, newest taken first) of the largest collection: the first, and one from a
  cursor deep in (a random position in its middle half);
- a 1% selective filter resolved to ids (`matching_ids`) and counted (`count_matching`): one
  camera model in one collection, and one month taken across every collection;
- a filtered search as far as the catalog and one replica go: the camera filter resolved as the
  gateway resolves it (`gateway.filtering.resolve`: counted, then its ids in `include_ids`
  chunks), each chunk made into the replica's allow-list and the allowed rows of that
  collection's Flat segment scored exactly for one query (`LoadedSegment.search_allowed`, what a
  replica runs); the HTTP hop between them is left out.

The peer is the bar issue 15 sets at 1M records: hydrate ≤ 5 ms, count ≤ 5 ms, a page ≤ 20 ms
(p50); the ratio is bar / p50, above 1 within the bar.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
from sqlalchemy import text

from bench.catalog_records import CAMERAS, FIRST_TAKEN, Library, generate, load
from bench.filtered_search_bench import DIM
from bench.filtered_search_bench import load as load_segment
from bench.system import load_average
from bench.timing import times_s
from bench.vectors import clustered_vectors
from deploy.harness.postgres import database, postgres_server
from gateway.filtering import resolve
from services.common.catalog import Catalog, open_catalog
from services.common.catalog.paging import encode_cursor
from services.common.schemas.catalog import ImageFilter
from services.common.settings import CatalogSettings, StorageSettings
from services.common.storage import open_store
from services.search.allowlist import AllowList

T = TypeVar("T")
PAGE = 100
HITS = 20
MONTH_S = 30 * 86400
BARS_MS = {"hydrate 20 results": 5.0, "count a collection": 5.0, "list a page": 20.0}


@dataclass
class Timing:
    operation: str
    backend: str
    p50_ms: float
    p99_ms: float
    calls: int

    @property
    def bar_ms(self) -> float | None:
        return next((bar for name, bar in BARS_MS.items() if self.operation.startswith(name)), None)


@contextlib.contextmanager
def fresh_url(backend: str, work: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{work / 'catalog.db'}"
    elif backend == "postgres":
        with postgres_server() as admin, database(admin, "timanh_bench") as url:
            yield url
    else:
        raise SystemExit(f"unknown backend {backend!r}: sqlite or postgres")


def camera_filter(lib: Library) -> tuple[ImageFilter, int]:
    """The (collection, camera) pair whose images are closest to 1% of the library."""
    pair = lib.collection * len(CAMERAS) + np.maximum(lib.camera, 0)
    pairs = np.bincount(pair, weights=lib.camera >= 0, minlength=len(lib.collection_ids) * len(CAMERAS))
    best = int(np.argmin(np.abs(pairs - len(lib.image_ids) / 100)))
    c, cam = divmod(best, len(CAMERAS))
    return ImageFilter(collection_ids=[lib.collection_ids[c]], camera=CAMERAS[cam][1]), int(pairs[best])


def month_filter(lib: Library) -> tuple[ImageFilter, int]:
    """One month's photos (as the date taken is stored) in every collection; ~1% over nine years."""
    first = int(np.median(lib.taken_s[lib.taken_s >= 0])) // MONTH_S * MONTH_S
    after, before = FIRST_TAKEN + timedelta(seconds=first), FIRST_TAKEN + timedelta(seconds=first + MONTH_S)
    n = int(((lib.taken_s >= first) & (lib.taken_s < first + MONTH_S)).sum())
    return ImageFilter(collection_ids=lib.collection_ids, taken_after=after, taken_before=before), n


def deep_cursors(lib: Library, c: int, count: int, rng: np.random.Generator) -> list[str]:
    """Cursors of the date listing (newest first) at random positions in the middle half of the
    collection's dated images."""
    own = np.flatnonzero((lib.collection == c) & (lib.taken_s >= 0))
    ids = np.array([lib.image_ids[i] for i in own])
    order = np.lexsort((ids, lib.taken_s[own]))[::-1]  # taken_at desc, then image_id desc
    at = rng.integers(len(order) // 4, max(len(order) // 4 + 1, 3 * len(order) // 4), count)
    rows = [order[p] for p in at]
    taken = [FIRST_TAKEN + timedelta(seconds=int(lib.taken_s[own[r]])) for r in rows]
    return [encode_cursor("t", t, str(ids[r])) for t, r in zip(taken, rows, strict=True)]


def rotating(values: list[T]) -> Callable[[], T]:
    """A call that returns the next of `values` each time: every timed call gets arguments of its own."""
    it = iter(values)
    return lambda: next(it)


def measure(catalog: Catalog, lib: Library, backend: str, repeats: int, seed: int) -> list[Timing]:
    rng = np.random.default_rng(seed)
    out: list[Timing] = []

    def timed(operation: str, fn: Callable[[], object], calls: int = repeats) -> None:
        ms = np.array(times_s(fn, calls, warmup=3)) * 1e3
        out.append(Timing(operation, backend, float(np.median(ms)), float(np.percentile(ms, 99)), len(ms)))
        print(f"  {backend:<8} {operation:<52} p50 {out[-1].p50_ms:8.2f} ms  p99 {out[-1].p99_ms:8.2f} ms",
              flush=True)  # fmt: skip

    n = len(lib.image_ids)
    calls = repeats + 3  # the warm-up calls take arguments of their own too
    pages = rotating([[lib.image_ids[i] for i in rng.choice(n, HITS, replace=False)] for _ in range(calls)])
    timed("hydrate 20 results: get_image_details", lambda: catalog.get_image_details(pages()))
    pages = rotating([[lib.image_ids[i] for i in rng.choice(n, HITS, replace=False)] for _ in range(calls)])
    timed("hydrate 20 results: get_images", lambda: catalog.get_images(pages()))
    cids = rotating([lib.collection_ids[int(c)] for c in rng.integers(0, len(lib.collection_ids), calls)])
    timed("count a collection", lambda: catalog.count_images(cids()))
    largest = int(np.argmax(np.bincount(lib.collection)))
    cid = lib.collection_ids[largest]
    timed("list a page: first", lambda: catalog.list_images(cid, limit=PAGE))
    cursors = rotating(deep_cursors(lib, largest, calls, rng))
    timed("list a page: cursor deep in", lambda: catalog.list_images(cid, cursor=cursors(), limit=PAGE))
    filter_calls = max(20, repeats // 4)
    by_camera, n_camera = camera_filter(lib)
    by_month, n_month = month_filter(lib)
    filters = (("camera in 1 collection", by_camera, n_camera), ("1 month, all", by_month, n_month))
    for name, f, expected in filters:
        share = f"{expected:,} ids, {expected / n:.2%}"
        assert len(catalog.matching_ids(f)) == expected == catalog.count_matching(f)
        timed(f"matching_ids: {name} ({share})", partial(catalog.matching_ids, f), filter_calls)
        timed(f"count_matching: {name} ({share})", partial(catalog.count_matching, f), filter_calls)
    label, search = filtered_search(catalog, lib, by_camera, filter_calls)
    timed(label, search, filter_calls)
    return out


def filtered_search(
    catalog: Catalog, lib: Library, f: ImageFilter, calls: int
) -> tuple[str, Callable[[], object]]:
    """The camera filter end to end: resolved by the catalog, its ids the allow-list of the
    collection's segment (clustered vectors, one query each call)."""
    assert f.collection_ids is not None
    c = lib.collection_ids.index(f.collection_ids[0])
    own = [lib.image_ids[i] for i in np.flatnonzero(lib.collection == c)]
    data = clustered_vectors(len(own) + calls + 3, DIM, clusters=200, seed=c)
    segment = load_segment(data[: len(own)], "Flat", own)
    queries = iter(data[len(own) :])
    loop = asyncio.new_event_loop()

    def search() -> object:
        chunks = loop.run_until_complete(resolve(catalog, f, f.collection_ids)).chunks
        assert chunks, "a 1% filter resolves to an allow-list"
        query = next(queries)[None, :]
        hits = []
        for chunk in chunks:  # each its own request; a replica makes the ids a set, then an allow-list
            hits += segment.search_allowed(query, 10, AllowList.of(frozenset(chunk)))[0][0]
        return sorted(hits, reverse=True)[:10]

    return f"filtered search: camera filter + Flat segment of {len(own):,}", search


def run_backend(backend: str, lib: Library, repeats: int, seed: int) -> tuple[list[Timing], float, str]:
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as tmp, fresh_url(backend, Path(tmp)) as url:
        store = open_store(StorageSettings(backend="local", local_root=Path(tmp) / "storage"))
        catalog = open_catalog(CatalogSettings(url=url), store)
        try:
            start = time.perf_counter()
            load(catalog, lib, seed)
            if backend == "postgres":  # what autovacuum does after a bulk insert (SQLite: nothing)
                engine = catalog.sessions.engine.execution_options(isolation_level="AUTOCOMMIT")
                with engine.connect() as conn:
                    conn.execute(text("VACUUM ANALYZE"))
            load_s = time.perf_counter() - start
            print(f"  {backend:<8} loaded {len(lib.image_ids):,} images in {load_s:.1f} s", flush=True)
            size = database_size(catalog, url)
            return measure(catalog, lib, backend, repeats, seed), load_s, size
        finally:
            catalog.sessions.dispose()


def database_size(catalog: Catalog, url: str) -> str:
    if catalog.sessions.dialect == "postgresql":
        with catalog.sessions.read() as s:
            size = int(s.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    else:
        path = Path(url.removeprefix("sqlite:///"))
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return f"{size / 2**20:,.0f} MiB"


def table(timings: list[Timing]) -> str:
    lines = ["| operation | backend | p50 ms | p99 ms | calls | bar (p50) | bar / p50 |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for t in timings:
        bar = f"≤ {t.bar_ms:g} ms" if t.bar_ms is not None else "none set"
        ratio = f"{t.bar_ms / t.p50_ms:.1f}×" if t.bar_ms is not None else "—"
        cells = [t.operation, t.backend, f"{t.p50_ms:.2f}", f"{t.p99_ms:.2f}", str(t.calls), bar, ratio]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per operation (filters: 1/4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/catalog.md"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    lib = generate(args.records, args.seed)
    print(f"generated {args.records:,} records in {time.perf_counter() - start:.1f} s", flush=True)
    timings: list[Timing] = []
    loads = []
    for backend in args.backends.split(","):
        got, load_s, size = run_backend(backend, lib, args.repeats, args.seed)
        timings += got
        loads.append(f"| {backend} | {load_s:.1f} | {args.records / load_s:,.0f} | {size} |")
    text_ = (
        f"{args.records:,} image records in {len(lib.collection_ids)} collections "
        f"(largest {np.bincount(lib.collection).max():,}), {len(CAMERAS)} camera models, "
        f"{lib.albums:,} album memberships, {lib.tags:,} tags; each call timed alone with fresh arguments, "
        f"after 3 untimed. {os.cpu_count()} CPUs, shared (load average {load_average()} at the end): "
        "figures are noisy. PostgreSQL: the server on 127.0.0.1:5432 (or a private one), "
        "VACUUM ANALYZE after the load; SQLite: WAL, no ANALYZE, as the catalog runs it.\n\n"
        "| backend | load s | rows/s | database size |\n| --- | ---: | ---: | ---: |\n"
        + "\n".join(loads)
        + "\n\n"
        + table(timings)
        + "\n\nBars from issue 15 (p50 at 1M records, 2 cores); none is set for filters and filtered search."
    )
    print("\n" + text_)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = f"python -m bench.catalog_bench --records {args.records} --backends {args.backends}"
    args.out.write_text(f"# Catalog\n\nCommand: `{command}`\n\n{text_}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

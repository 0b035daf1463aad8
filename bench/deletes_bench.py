"""Deleting 500 of 1,000 images: publishes, manifest bytes and index storage, against the peer
"one publish per delete, no version collection" (how deletions were folded before).

`python -m bench.deletes_bench` runs the indexer's own Publisher and Deleter in-process over a
local object store (4 shards, 512-d vectors, exact shards), and prints one Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.vectors import clustered_vectors
from services.common.index_signals import StoreSignals
from services.common.shards import (
    index_prefix,
    pack_vectors,
    read_current,
    tombstone_prefix,
    vector_batch_key,
    vectors_prefix,
)
from services.common.storage.local import LocalObjectStore
from services.indexer.deletes import Deleter
from services.indexer.locks import FileLocks
from services.indexer.publisher import BuildConfig, Publisher
from services.indexer.versions_gc import collect_versions

CID = "bench"


@dataclass
class Usage:
    versions: int
    objects: int
    index_bytes: int
    vector_bytes: int
    tombstones: int


def usage(store: LocalObjectStore) -> Usage:
    def size(prefix: str) -> tuple[int, int]:
        keys = list(store.iter_keys(prefix))
        return len(keys), sum((store.root / "objects" / k).stat().st_size for k in keys)

    index_objects, index_bytes = size(index_prefix(CID))
    _, vector_bytes = size(vectors_prefix(CID))
    versions = sum(1 for k in store.iter_keys(index_prefix(CID)) if k.endswith("manifest.json"))
    return Usage(
        versions, index_objects, index_bytes, vector_bytes, len(list(store.iter_keys(tombstone_prefix(CID))))
    )


async def run(root: Path, n: int, deletes: int, fold_interval_s: float | None, grace_s: float) -> list[str]:
    """`fold_interval_s=None`: the peer, one publish after each delete."""
    store = LocalObjectStore(root / "store")
    commits: list[int] = []

    def count(cid: str) -> None:
        pointer = read_current(store, cid)
        info = store.stat(pointer.manifest_key) if pointer else None
        commits.append(info.size if info else 0)

    config = BuildConfig(shard_count=4, version_gc_grace_s=grace_s)
    publisher = Publisher(store, StoreSignals(store), FileLocks(root / "locks"), config, count)
    ids = [f"img{i:07d}" for i in range(n)]
    x = clustered_vectors(n, 512, seed=1)
    for start in range(0, n, 64):
        key = vector_batch_key(CID, "mv", f"b-{start // 64:05d}")
        store.put(key, pack_vectors(ids[start : start + 64], x[start : start + 64]))
    await publisher.publish(CID)
    before = usage(store)
    commits.clear()
    deleter = Deleter(store, StoreSignals(store), publisher, fold_interval_s or 0.0)
    started = time.perf_counter()
    for iid in ids[:deletes]:
        await deleter.delete_image(CID, iid)
        if fold_interval_s is None:
            await publisher.publish(CID)
    await deleter.folds.idle()
    collect_versions(store, CID, grace_s)
    took = time.perf_counter() - started
    after = usage(store)
    await deleter.aclose()
    mib = 2**20
    return [
        f"{len(commits):,}",
        f"{sum(commits) / 1024:,.0f}",
        f"{took:.1f}",
        f"{before.versions} / {after.versions}",
        f"{before.objects} / {after.objects}",
        f"{before.index_bytes / mib:.2f} / {after.index_bytes / mib:.2f}",
        f"{before.vector_bytes / mib:.2f} / {after.vector_bytes / mib:.2f}",
        f"{before.tombstones} / {after.tombstones}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--deletes", type=int, default=500)
    args = parser.parse_args()
    rows: dict[str, tuple[float | None, float]] = {
        "one publish per delete, no collection (peer)": (None, float("inf")),
        "folded every 0.5 s, versions collected (grace 0 s)": (0.5, 0.0),
    }
    print(f"Deleting {args.deletes:,} of {args.images:,} images (4 shards, 512-d, exact); before / after\n")
    print(
        "| mode | publishes | manifest KiB written | seconds | index versions | index objects "
        "| index MiB | vector MiB | tombstones |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (interval, grace) in rows.items():
        with tempfile.TemporaryDirectory() as tmp:
            cells = asyncio.run(run(Path(tmp), args.images, args.deletes, interval, grace))
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

"""Bulk embedding's results, folded back into partitions and written as each completes.

Ray hands results back in any order and a retried task may hand some twice; each item counts
once, in the partition the listing put it in. A complete partition is written in the order that
makes a crash harmless: its catalog rows, then (`bulk_sink`) its vector batch.
"""

from __future__ import annotations

import asyncio
import pickle
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from services.common.catalog import CollectionNotFound
from services.indexer.bulk_sink import BulkReport, BulkSink
from services.indexer.bulk_stages import DELETED
from services.indexer.bulk_writer import ClipRetrievalWriter
from services.indexer.publisher import CollectionDeleted


@dataclass
class Partition:
    """What came back of one partition so far, by item."""

    size: int
    seen: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    rows: list[dict[str, object]] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)


@dataclass
class Throughput:
    """The pipeline's steady rate: items that came back after its first batch, over the time since
    (Ray's start and the actors' model loading left out)."""

    first_at: float | None = None
    last_at: float = 0.0
    items: int = 0

    def add(self, n: int) -> None:
        now = time.perf_counter()
        if self.first_at is None:
            self.first_at = now
        else:
            self.items += n
        self.last_at = now

    @property
    def per_s(self) -> float:
        if self.first_at is None or self.last_at <= self.first_at:
            return 0.0
        return self.items / (self.last_at - self.first_at)


def take(batch: dict[str, np.ndarray], parts: dict[int, Partition], report: BulkReport) -> list[int]:
    """Fold a batch of results into their partitions; the partitions it completed."""
    completed = []
    for ref, n, iid, error, row, vector in zip(
        batch["ref"], batch["part"], batch["image_id"], batch["error"], batch["row"], batch["vector"],
        strict=True,
    ):  # fmt: skip
        part = parts.get(int(n))
        if part is None or ref in part.seen:  # a task Ray ran again: its rows came once already
            continue
        part.seen.add(ref)
        report.images += 1
        if error == DELETED:
            report.kept_deleted += 1
        elif error:
            report.rejected[str(error)] += 1
        else:
            part.ids.append(str(iid))
            part.rows.append(pickle.loads(row))
            part.vectors.append(vector)
            part.refs.append(str(ref))
        if len(part.seen) == part.size:
            completed.append(int(n))
    return completed


async def write(sink: BulkSink, n: int, part: Partition, writer: ClipRetrievalWriter | None) -> None:
    """The partition's catalog rows, then its vector batch (a stored batch always has its rows)."""
    if not part.ids:
        return
    try:
        await asyncio.to_thread(sink.catalog.add_image_rows, sink.cid, part.rows)
    except CollectionNotFound as exc:
        raise CollectionDeleted(sink.cid) from exc
    vectors = np.stack(part.vectors)
    if writer is not None:
        await asyncio.to_thread(writer.write, n, part.refs, part.rows, vectors)
    await sink.write_catalogued(n, 0, part.ids, vectors)


def progress(report: BulkReport, total: int, what: str) -> None:
    seconds = max(time.perf_counter() - report.started, 1e-9)
    print(
        f"{what}: {report.images:,}/{total:,} images, {report.written:,} written, "
        f"{sum(report.rejected.values()):,} rejected, {report.images / seconds:,.1f} images/s",
        file=sys.stderr,
        flush=True,
    )

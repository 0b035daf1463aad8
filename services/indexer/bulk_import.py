"""`python -m services.indexer.bulk_import --collection C FOLDER`: an embeddings import.

Brings vectors computed elsewhere into a collection without encoding an image: clip-retrieval's
layout (`img_emb/img_emb_N.npy` + `metadata/metadata_N.parquet`, as `clip inference` writes) or
this project's own vector batches (`bulk_layouts`). It checks that the vectors are those of the
model the encoder serves (or of `--model-version`) at its dimension and, when the collection is
already indexed, of the model it was indexed with; writes catalog rows and vector batches
(`bulk_sink`); and publishes one index version. A rerun on the same folder writes nothing again
and publishes nothing new; an interrupted one resumes.

It reads the indexer's settings (`INDEXER_*`, `STORAGE_*`, `CATALOG_URL`, `REDIS_URL`) as the
indexer does, and prints one JSON summary line last (progress goes to standard error).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from services.common.catalog import ReferencedImage
from services.indexer.bulk_layouts import (
    Layout,
    LayoutError,
    detect,
    read_clip_retrieval,
    read_vector_batches,
    source_digest,
)
from services.indexer.bulk_sink import (
    BulkReport,
    BulkSink,
    Publishing,
    Refused,
    check_target,
    open_publishing,
    serving_model,
)
from services.indexer.publisher import CollectionDeleted
from services.indexer.settings import IndexerSettings


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m services.indexer.bulk_import", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("folder", type=Path, help="the embeddings folder")
    p.add_argument("--collection", required=True, help="id of an existing collection")
    p.add_argument("--layout", choices=["auto", "clip-retrieval", "vectors"], default="auto")
    p.add_argument(
        "--model-version",
        help="version of the model that made the vectors (default: the one the encoder serves)",
    )
    p.add_argument("--dim", type=int, help="their dimension (default: the encoder's, or the index's)")
    p.add_argument("--path-column", help="metadata column naming each image (default: image_path, url, …)")
    p.add_argument(
        "--chunk-rows", type=int, default=50_000, help="rows read, written and kept in memory at once"
    )
    p.add_argument("--index-type", help="FAISS factory string of the new version (default: the indexer's)")
    return p.parse_args(argv)


async def target_model(
    args: argparse.Namespace, settings: IndexerSettings, out: Publishing
) -> tuple[str, int]:
    """The model version and dimension the vectors must have, or Refused saying why not."""
    serving = await serving_model(settings)
    version = args.model_version or (serving[0] if serving else None)
    if version is None:
        raise Refused("the encoder does not answer: name the vectors' model with --model-version")
    pointer = await check_target(
        out.catalog, args.collection, version, serving[0] if serving else None, "the vectors are of model"
    )
    dims = {d for d in (args.dim, serving[1] if serving else None) if d is not None}
    if pointer is not None:
        manifest = await asyncio.to_thread(out.publisher.current_manifest, args.collection)
        dims |= {manifest.dim} if manifest is not None else set()
    if len(dims) > 1:
        raise Refused(f"dimensions disagree: {sorted(dims)}")
    if not dims:
        raise Refused("the vectors' dimension is unknown: give --dim")
    return version, dims.pop()


async def run(args: argparse.Namespace, settings: IndexerSettings) -> BulkReport:
    async with open_publishing(settings) as out:
        layout: Layout = detect(args.folder) if args.layout == "auto" else args.layout
        version, dim = await target_model(args, settings, out)
        sink = BulkSink(
            out.catalog, out.publisher, args.collection, version, source_digest(args.folder, layout)
        )
        await fill(sink, args.folder, layout, dim, args.chunk_rows, args.path_column)
        await sink.publish(args.index_type)
        return sink.report


async def fill(
    sink: BulkSink, folder: Path, layout: Layout, dim: int, chunk_rows: int, path_column: str | None
) -> None:
    chunks = (
        read_clip_retrieval(folder, dim, chunk_rows, path_column)
        if layout == "clip-retrieval"
        else read_vector_batches(folder, dim, chunk_rows)
    )
    report = sink.report
    while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
        rows = len(chunk.vectors)
        report.images += rows + sum(chunk.rejected.values())
        report.rejected.update(chunk.rejected)
        if await sink.already_written(chunk.part, chunk.index):
            sink.resumed(rows)
        elif layout == "clip-retrieval":
            images = [
                ReferencedImage(ref, w, h)
                for ref, w, h in zip(chunk.references, chunk.widths, chunk.heights, strict=True)
            ]
            await sink.write_references(chunk.part, chunk.index, images, chunk.vectors)
        else:
            await sink.write_catalogued(chunk.part, chunk.index, chunk.image_ids, chunk.vectors)
        print(
            f"part {chunk.part} chunk {chunk.index}: {report.images} rows read, {report.written} written",
            file=sys.stderr,
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.chunk_rows < 1:
        print("--chunk-rows must be at least 1", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(run(args, IndexerSettings()))
    except (Refused, LayoutError) as exc:
        print(f"bulk import refused: {exc}", file=sys.stderr)
        return 2
    except CollectionDeleted:
        print(f"bulk import stopped: collection {args.collection} was deleted meanwhile", file=sys.stderr)
        return 2
    print(json.dumps(report.summary(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

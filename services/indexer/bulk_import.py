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

from services.common.catalog import Catalog, ReferencedImage, open_catalog
from services.common.clients import EncoderClient
from services.common.index_signals import open_signals, redis_namespace
from services.common.shards import Manifest, is_deleted, read_current
from services.common.storage import ObjectStore, open_store
from services.indexer.app import build_config
from services.indexer.bulk_layouts import (
    Layout,
    LayoutError,
    detect,
    read_clip_retrieval,
    read_vector_batches,
    source_digest,
)
from services.indexer.bulk_sink import BulkReport, BulkSink
from services.indexer.locks import open_locks
from services.indexer.publisher import CollectionDeleted, Publisher
from services.indexer.settings import IndexerSettings


class ImportRefused(Exception):
    """What the import will not do, said to the operator (exit status 2)."""


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


async def serving_model(settings: IndexerSettings) -> tuple[str, int] | None:
    encoder = EncoderClient(settings.encoder_url, settings.http_timeout_s)
    try:
        info = await encoder.model_info()
    except Exception:  # not running: the operator names the model instead
        return None
    finally:
        await encoder.aclose()
    return info.version, info.dim


async def target_model(
    args: argparse.Namespace, settings: IndexerSettings, catalog: Catalog
) -> tuple[str, int]:
    """The model version and dimension the vectors must have, or ImportRefused saying why not."""
    store = catalog.store
    if await asyncio.to_thread(catalog.get_collection, args.collection) is None:
        raise ImportRefused(f"collection {args.collection} does not exist (create it through the API first)")
    if await asyncio.to_thread(is_deleted, store, args.collection):
        raise ImportRefused(f"collection {args.collection} was deleted")
    serving = await serving_model(settings)
    version = args.model_version or (serving[0] if serving else None)
    if version is None:
        raise ImportRefused("the encoder does not answer: name the vectors' model with --model-version")
    if serving is not None and version != serving[0]:
        raise ImportRefused(
            f"the vectors are of model {version} but the encoder serves {serving[0]}: queries would "
            "never be compared with them"
        )
    pointer = await asyncio.to_thread(read_current, store, args.collection)
    if pointer is not None and pointer.model_version != version:
        raise ImportRefused(
            f"collection {args.collection} is indexed with model {pointer.model_version}, not {version}"
        )
    dims = {d for d in (args.dim, serving[1] if serving else None) if d is not None}
    if pointer is not None:
        manifest = await asyncio.to_thread(_manifest_dim, store, args.collection)
        dims |= {manifest} if manifest else set()
    if len(dims) > 1:
        raise ImportRefused(f"dimensions disagree: {sorted(dims)}")
    if not dims:
        raise ImportRefused("the vectors' dimension is unknown: give --dim")
    return version, dims.pop()


def _manifest_dim(store: ObjectStore, collection_id: str) -> int | None:
    pointer = read_current(store, collection_id)
    if pointer is None:
        return None
    return Manifest.model_validate_json(store.get(pointer.manifest_key)).dim


async def run(args: argparse.Namespace, settings: IndexerSettings) -> BulkReport:
    store = open_store(settings.storage)
    catalog = await asyncio.to_thread(open_catalog, settings.catalog, store)
    redis_url = settings.cache.redis_url
    signals = open_signals(redis_url, store, settings.storage, settings.cache.timeout_s)
    namespace = redis_namespace(settings.storage)
    locks = open_locks(redis_url, namespace, settings.queue_path.parent / "locks", settings.lock_ttl_s)
    try:
        layout: Layout = detect(args.folder) if args.layout == "auto" else args.layout
        version, dim = await target_model(args, settings, catalog)
        publisher = Publisher(store, signals, locks, build_config(settings))
        sink = BulkSink(catalog, publisher, args.collection, version, source_digest(args.folder, layout))
        await fill(sink, args.folder, layout, dim, args.chunk_rows, args.path_column)
        await sink.publish(args.index_type)
        return sink.report
    finally:
        for closing in (locks, signals, catalog, store):
            await closing.aclose()


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
    except (ImportRefused, LayoutError) as exc:
        print(f"bulk import refused: {exc}", file=sys.stderr)
        return 2
    except CollectionDeleted:
        print(f"bulk import stopped: collection {args.collection} was deleted meanwhile", file=sys.stderr)
        return 2
    print(json.dumps(report.summary(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

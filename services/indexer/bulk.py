"""`python -m services.indexer.bulk --collection C --source s3://bucket/prefix --model CKPT`: bulk
embedding on Ray Data.

Imports a library of images into a collection as an import job would (same sources and limits,
same content-hash ids, bytes, thumbnails and catalog rows), but spread over a Ray cluster: the
listing is cut into partitions; CPU tasks read, decode, store and preprocess (`bulk_stages`);
actors run the model, one per GPU (`num_gpus=1`) or on CPUs when there is none; this process
writes each partition's catalog rows, then its vector batch (`bulk_sink`), and publishes one index
version at the end. `RAY_ADDRESS` joins a cluster (this package must be installed there; a
checkpoint named `store:<prefix>` is copied from storage by every actor); unset, a local Ray
starts on this machine. deploy/k8s/ray runs it as a KubeRay RayJob with GPU workers.

The model is the checkpoint the encoder serves (its `ENCODER_MODEL`): when the encoder answers,
its version must be the checkpoint's, and a collection already indexed must be indexed with it.
A rerun skips partitions whose vector batch is stored (their keys come from the source and the
partition), so an interrupted run resumes and no image is indexed twice; deleted images stay
deleted. Settings are the indexer's (`INDEXER_*`, `STORAGE_*`, `CATALOG_URL`, `REDIS_URL`);
progress goes to standard error and one JSON summary line to standard output, last.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import ray
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.catalog import Catalog
from services.common.checkpoints import CheckpointError, recorded_version
from services.common.errors import ApiError
from services.common.images import DEFAULT_MAX_PIXELS
from services.common.schemas.indexer import FolderSource, JobRequest, PrefixSource
from services.common.shards import tombstone_prefix
from services.common.storage import ObjectStore
from services.indexer.bulk_partitions import Partition, Throughput, progress, take, write
from services.indexer.bulk_sink import (
    BulkReport,
    BulkSink,
    Refused,
    check_target,
    open_publishing,
    serving_model,
)
from services.indexer.bulk_stages import ImageEmbedder, PreparePlan, local_checkpoint, prepare_items
from services.indexer.bulk_writer import ClipRetrievalWriter
from services.indexer.publisher import CollectionDeleted
from services.indexer.settings import IndexerSettings
from services.indexer.sources import SourcePolicy, batches, check_source, iter_items

if TYPE_CHECKING:
    from vi_clip.transforms import ImageTransform


class RaySettings(BaseSettings):
    """Where Ray runs: `RAY_ADDRESS` names a cluster to join; unset, a local Ray is started."""

    model_config = SettingsConfigDict(extra="ignore")
    ray_address: str | None = Field(None, validation_alias="RAY_ADDRESS")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m services.indexer.bulk", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--collection", required=True, help="id of an existing collection")
    p.add_argument("--source", required=True, help="s3://bucket/prefix, or a folder under the import roots")
    p.add_argument("--model", required=True, help="the checkpoint the encoder serves (its ENCODER_MODEL)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: GPUs when any")
    p.add_argument("--batch-size", type=int, default=64, help="images per CPU task and per model forward")
    p.add_argument("--actors", type=int, help="model actors (default: one per GPU, else 1)")
    p.add_argument("--actor-cpus", type=int, default=1, help="CPUs (torch threads) of each CPU actor")
    p.add_argument("--num-cpus", type=int, help="CPUs of the local Ray (default: all); not with RAY_ADDRESS")
    p.add_argument("--partition-size", type=int, default=500, help="items per partition (one vector batch)")
    p.add_argument("--index-type", help="FAISS factory string of the new version (default: the indexer's)")
    p.add_argument("--write", nargs=2, metavar=("LAYOUT", "FOLDER"),
                   help="also write the vectors in another layout: `clip-retrieval FOLDER`")  # fmt: skip
    return p.parse_args(argv)


def job_request(args: argparse.Namespace) -> JobRequest:
    source = (
        PrefixSource(uri=args.source) if args.source.startswith("s3://") else FolderSource(path=args.source)
    )
    return JobRequest(collection_id=args.collection, source=source, index_type=args.index_type)


def source_tag(args: argparse.Namespace) -> str:
    """The same source cut the same way gives the same batch keys on a rerun."""
    return "ray-" + hashlib.sha256(f"{args.source}\0{args.partition_size}".encode()).hexdigest()[:16]


def load_model(source: str, store: ObjectStore) -> tuple[str, ImageTransform]:
    """The checkpoint's version and eval transform (the model is built once here, then freed).

    A checkpoint in storage (`store:<prefix>`, as `ENCODER_MODEL` names it on Kubernetes) is
    copied here first; each model actor copies it again where it runs (`ImageEmbedder`)."""
    from vi_clip import create_model

    try:
        path = local_checkpoint(source, store)
        model = create_model(path, device="cpu")
    except (CheckpointError, OSError, ValueError) as exc:
        raise Refused(f"--model {source}: {exc}") from exc
    expected = recorded_version(Path(path))
    if expected is not None and expected != model.version:
        raise Refused(f"--model {source} records version {expected} but its weights hash to {model.version}")
    return model.version, model.image_transform


async def check(args: argparse.Namespace, settings: IndexerSettings, catalog: Catalog, version: str) -> None:
    serving = await serving_model(settings)
    if serving is None:
        print(f"the encoder does not answer: the vectors will be of model {version}", file=sys.stderr)
    await check_target(
        catalog, args.collection, version, serving[0] if serving else None, f"{args.model} is model"
    )


def start_ray(args: argparse.Namespace) -> bool:
    """Join the cluster `RAY_ADDRESS` names or start a local Ray; True when this process started it."""
    address = RaySettings().ray_address
    if address:
        ray.init(address=address, include_dashboard=False)
    else:
        ray.init(num_cpus=args.num_cpus, include_dashboard=False)
    ray.data.DataContext.get_current().enable_progress_bars = False  # one line per partition instead
    return not address


def prepare_task_args() -> dict[str, object]:
    return {"num_cpus": 1}


def pipeline(
    items: list[dict[str, object]], plan: PreparePlan, args: argparse.Namespace, version: str
) -> ray.data.Dataset:
    """Prepare tasks (one CPU each), then the model actors."""
    gpus = 0 if args.device == "cpu" else int(ray.cluster_resources().get("GPU", 0))
    if args.device == "cuda" and not gpus:
        raise Refused("--device cuda, but the Ray cluster has no GPU")
    actors = args.actors or max(gpus, 1)
    blocks = max(1, math.ceil(len(items) / args.batch_size))
    listed = ray.data.from_items(items, override_num_blocks=blocks)
    # A remote-args function keeps the prepare tasks their own operator: Ray Data would otherwise
    # fuse them into the actors, and decoding would wait on the model instead of running beside it.
    prepared = listed.map_batches(
        partial(prepare_items, plan=plan), batch_size=args.batch_size, ray_remote_args_fn=prepare_task_args
    )
    return prepared.map_batches(
        ImageEmbedder,
        batch_size=args.batch_size,
        compute=ray.data.ActorPoolStrategy(size=actors),
        fn_constructor_kwargs={
            "model": args.model,
            "device": "cuda" if gpus else "cpu",
            "expected_version": version,
            "torch_threads": 0 if gpus else args.actor_cpus,
            "storage": plan.storage,
        },
        num_gpus=1 if gpus else 0,
        num_cpus=1 if gpus else args.actor_cpus,
    )


async def run(args: argparse.Namespace, settings: IndexerSettings) -> tuple[BulkReport, Throughput]:
    async with open_publishing(settings) as out:
        store = out.store
        bucket = settings.storage.s3_bucket if settings.storage.resolved_backend == "s3" else None
        policy = SourcePolicy(
            settings.import_roots, bucket, settings.import_prefixes, settings.max_image_bytes
        )
        request = job_request(args)
        try:
            check_source(request, policy)
        except ApiError as exc:
            raise Refused(f"{exc.message} {json.dumps(exc.details, ensure_ascii=False)}") from exc
        version, transform = await asyncio.to_thread(load_model, args.model, store)
        await check(args, settings, out.catalog, version)
        sink = BulkSink(out.catalog, out.publisher, args.collection, version, source_tag(args))
        prefix = tombstone_prefix(args.collection)
        deleted = frozenset(k[len(prefix) :] for k in await store.alist(prefix))
        plan = PreparePlan(request, policy, settings.storage, transform, DEFAULT_MAX_PIXELS, deleted)
        writer = ClipRetrievalWriter(Path(args.write[1])) if args.write else None
        throughput = await fill(sink, args, request, policy, plan, writer)
        await sink.publish(args.index_type)
        return sink.report, throughput


async def fill(
    sink: BulkSink,
    args: argparse.Namespace,
    request: JobRequest,
    policy: SourcePolicy,
    plan: PreparePlan,
    writer: ClipRetrievalWriter | None,
) -> Throughput:
    """Every partition not yet stored, through the Ray pipeline, written as it completes."""
    report, store = sink.report, sink.store
    listing = await asyncio.to_thread(
        lambda: list(batches(iter_items(request, store, policy), args.partition_size))
    )
    open_parts: dict[int, Partition] = {}
    items: list[dict[str, object]] = []
    for n, refs in enumerate(listing):
        if await sink.already_written(n, 0):
            sink.resumed(len(refs))
            report.images += len(refs)
        else:
            open_parts[n] = Partition(len(refs))
            items += [{"ref": ref, "part": n} for ref in refs]
    total = sum(len(refs) for refs in listing)
    progress(report, total, f"{len(listing)} partitions, {len(open_parts)} to embed")
    throughput = Throughput()
    if not items:
        return throughput
    started_ray = start_ray(args)
    try:
        dataset = pipeline(items, plan, args, sink.mv)
        batches_out: Iterator[dict[str, np.ndarray]] = iter(
            dataset.iter_batches(batch_size=None, batch_format="numpy")
        )
        while (batch := await asyncio.to_thread(next, batches_out, None)) is not None:
            throughput.add(len(batch["ref"]))
            for done in take(batch, open_parts, report):
                await write(sink, done, open_parts.pop(done), writer)
                progress(report, total, f"partition {done} written")
    finally:
        if started_ray:
            ray.shutdown()
    return throughput


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    for name in ("batch_size", "partition_size", "actor_cpus"):
        if getattr(args, name) < 1:
            print(f"--{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    if args.write and args.write[0] != "clip-retrieval":
        print(f"--write {args.write[0]}: the one layout written is clip-retrieval", file=sys.stderr)
        return 2
    if args.num_cpus and RaySettings().ray_address:
        print("--num-cpus sizes a local Ray; the cluster RAY_ADDRESS names has its own", file=sys.stderr)
        return 2
    try:
        report, throughput = asyncio.run(run(args, IndexerSettings()))
    except Refused as exc:
        print(f"bulk embedding refused: {exc}", file=sys.stderr)
        return 2
    except CollectionDeleted:
        print(f"bulk embedding stopped: collection {args.collection} was deleted meanwhile", file=sys.stderr)
        return 2
    summary = {**report.summary(), "steady_images_per_s": round(throughput.per_s, 1)}
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

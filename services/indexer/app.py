"""The indexer app: queue, publisher and workers opened in the lifespan, closed on shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from imaging.ocr import OcrBudget
from services.common.app import create_service_app
from services.common.cache import open_cache
from services.common.catalog import open_catalog
from services.common.catalog.health import catalog_check
from services.common.clients import EncoderClient
from services.common.clients.encoders import EncoderSet
from services.common.closing import Closable, shut_down
from services.common.health import Check
from services.common.index_signals import open_signals, redis_namespace
from services.common.resources import cache_check, peer_check, storage_check
from services.common.storage import open_store
from services.indexer.debounce import Debouncer
from services.indexer.deletes import Deleter
from services.indexer.deps import IndexerRuntime
from services.indexer.encoding import EncoderEmbedder
from services.indexer.ingest import Ingestor
from services.indexer.locks import open_locks
from services.indexer.ocr import OcrRunner
from services.indexer.publisher import BuildConfig, Publisher
from services.indexer.queue import open_queue
from services.indexer.routes import router
from services.indexer.settings import IndexerSettings
from services.indexer.sources import SourcePolicy
from services.indexer.switching import ModelSwitch, SwitchRunner
from services.indexer.versions_gc import collect_versions
from services.indexer.worker import Worker, consumer_name


def build_config(settings: IndexerSettings) -> BuildConfig:
    return BuildConfig(
        shard_count=settings.shard_count,
        index_type=settings.index_type,
        budget_bytes=settings.memory_budget_mb << 20,
        flat_max=settings.flat_max,
        delta_max_fraction=settings.delta_max_fraction,
        tombstone_max_fraction=settings.tombstone_max_fraction,
        version_gc_grace_s=settings.version_gc_grace_s,
    )


def ocr_budget(settings: IndexerSettings) -> OcrBudget:
    return OcrBudget(
        seconds=settings.ocr_seconds, max_pixels=settings.ocr_max_pixels, language=settings.ocr_language
    )


def create_app(settings: IndexerSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis_url = settings.cache.redis_url
        store = open_store(settings.storage)
        catalog = await asyncio.to_thread(open_catalog, settings.catalog, store)  # migrated first
        cache = open_cache(settings.cache)
        encoder = EncoderClient(settings.encoder_url, settings.encoder_timeout_s)
        encoders = EncoderSet(
            [encoder, *(EncoderClient(u, settings.encoder_timeout_s) for u in settings.encoder_alt_urls)]
        )
        namespace = redis_namespace(settings.storage)
        queue = open_queue(
            redis_url, namespace, settings.queue_path, settings.claim_idle_s, settings.job_status_ttl_s
        )
        signals = open_signals(redis_url, store, settings.storage, settings.cache.timeout_s)
        locks = open_locks(redis_url, namespace, settings.queue_path.parent / "locks", settings.lock_ttl_s)
        grace = settings.version_gc_grace_s
        # A version superseded now is collected once the grace has passed, even if none follows:
        # a pass that kept a version for the grace comes back for it.

        async def collect(cid: str) -> None:
            if (await asyncio.to_thread(collect_versions, store, cid, grace)).retry_in_s is not None:
                gc.poke(cid)

        gc = Debouncer(grace + 1.0, collect, "gc")
        publisher = Publisher(store, signals, locks, build_config(settings), after_commit=gc.poke)
        deleter = Deleter(store, signals, publisher, settings.fold_interval_s)
        bucket = settings.storage.s3_bucket if settings.storage.resolved_backend == "s3" else None
        policy = SourcePolicy(
            settings.import_roots, bucket, settings.import_prefixes, settings.max_image_bytes
        )
        ocr = OcrRunner(
            catalog,
            ocr_budget(settings),
            settings.ocr_workers,
            enabled=settings.ocr_enabled,
            signals=signals,
        )
        await ocr.start()
        ingestor = Ingestor(
            catalog,
            EncoderEmbedder(encoders),
            publisher,
            queue,
            signals,
            batch_size=settings.batch_size,
            policy=policy,
            ocr=ocr,
        )
        switch = SwitchRunner(
            ModelSwitch(store, catalog, publisher, encoders, batch_size=settings.batch_size),
            keep_s=settings.model_keep_s,
        )
        switch.start()
        app.state.runtime = IndexerRuntime(store, queue, publisher, deleter, catalog, policy, switch)

        async def queue_ok() -> str | None:
            await queue.ping()
            return None

        app.state.readiness_checks += [
            storage_check(store),
            catalog_check(catalog),
            cache_check(cache, required=redis_url is not None),
            peer_check(encoder),
            Check(f"queue:{queue.name}", queue_ok),
            ocr.check(),
        ]
        workers = [
            Worker(consumer_name(n), queue, ingestor, settings.max_deliveries)
            for n in range(settings.workers)
        ]
        tasks = [asyncio.create_task(w.loop()) for w in workers]
        try:
            yield
        finally:
            closing: list[Closable] = [switch, ocr, deleter, gc, encoders, cache, queue, signals, locks]
            closing += [catalog, store]
            await shut_down(tasks, closing)

    app = create_service_app(
        service="indexer",
        title="Tìm Ảnh indexer",
        version="0.1.0",
        lifespan=lifespan,
        readiness_timeout_s=settings.readiness_timeout_s,
    )
    app.include_router(router)
    return app

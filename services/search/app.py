"""The search app: holder, engine and sync tasks opened in the lifespan, closed on shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial

import faiss
from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.closing import shut_down
from services.common.health import Check
from services.common.index_signals import IndexSignals, open_signals
from services.common.resources import storage_check
from services.common.shards import read_tombgen
from services.common.storage import StorageError, open_store
from services.search.deps import SearchRuntime
from services.search.engine import SearchEngine
from services.search.holder import IndexHolder
from services.search.routes import router
from services.search.settings import SearchSettings
from services.search.view import ViewConfig

log = logging.getLogger(__name__)


async def _listen(signals: IndexSignals, holder: IndexHolder) -> None:
    """Apply pushed events as they come (Redis pub/sub); polling covers lost ones."""
    async for event in signals.events():
        try:
            if event.type == "version":
                await holder.sync(event.collection_id)
            elif event.type == "tombstones" and event.collection_id in holder.tombs:
                await holder.sync_tombs(event.collection_id, event.value)
            elif event.type == "dropped":
                holder.drop(event.collection_id)
        except StorageError as exc:
            log.warning("event %s for %s not applied yet: %s", event.type, event.collection_id, exc)


async def _poll(holder: IndexHolder, interval_s: float) -> None:
    while True:
        try:
            await holder.sync_all()
            for cid in holder.collections():
                gen = await asyncio.to_thread(read_tombgen, holder.store, cid)
                if holder.tomb_gen(cid) != gen:
                    await holder.sync_tombs(cid, gen)
        except StorageError as exc:
            log.warning("index poll failed: %s", exc)
        await asyncio.sleep(interval_s)


def create_app(settings: SearchSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # OpenMP thread counts are per OS thread: set on the event loop here, `faiss_threads` would
        # reach only the inline scans. Each search thread sets it as it starts.
        threads = settings.faiss_threads
        if threads:
            faiss.omp_set_num_threads(threads)
        redis_url = settings.cache.redis_url
        store = open_store(settings.storage)
        signals = open_signals(redis_url, store, settings.storage, settings.cache.timeout_s)
        loader = ThreadPoolExecutor(2, thread_name_prefix="index-load")
        searcher = ThreadPoolExecutor(
            settings.search_threads,
            thread_name_prefix="faiss-search",
            initializer=partial(faiss.omp_set_num_threads, threads) if threads else None,
        )
        views = (
            ViewConfig(settings.view_flat_max, settings.view_memory_budget_mb << 20, settings.view_debounce_s)
            if settings.views
            else None
        )
        holder = IndexHolder(
            store,
            settings.shard_count,
            settings.held_shards,
            app.state.metrics.registry,
            loader,
            views,
        )
        engine = SearchEngine(holder, signals, searcher, settings.sync_timeout_s, settings.inline_max_rows)
        app.state.runtime = SearchRuntime(engine, settings)
        app.state.readiness_checks += [
            storage_check(store),
            Check("index", holder.ready),
            Check("index-integrity", holder.integrity, required=False),
        ]
        interval = settings.poll_interval_s or (30.0 if redis_url else 2.0)
        tasks = [asyncio.create_task(_poll(holder, interval))]
        if redis_url:
            tasks.append(asyncio.create_task(_listen(signals, holder)))
        try:
            yield
        finally:
            if holder.views is not None:
                holder.views.close()
            await shut_down(tasks, [signals])
            loader.shutdown(wait=False, cancel_futures=True)
            searcher.shutdown(wait=False, cancel_futures=True)
            await store.aclose()

    app = create_service_app(
        service="search",
        title="Tìm Ảnh search",
        version="0.1.0",
        lifespan=lifespan,
        readiness_timeout_s=settings.readiness_timeout_s,
    )
    app.include_router(router)
    return app

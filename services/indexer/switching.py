"""Switching the deployment's model with no downtime: build, flip, roll back, collect.

1. `start`: the routing record gains a `target`; from then on every new image is embedded by
   both models (the ingestor reads the record per batch) while the serving model answers.
2. `build`: every catalogued image of every collection not yet embedded by the target model is
   embedded by the target's encoder (read from storage by key, in batches), stored as vector
   batches of that model and published as the collection's index for it (its own index id, see
   `services.common.routing`), which replicas load beside the serving one. Batch names come from
   their ids, so a rerun after a crash writes the same objects and skips what is stored.
3. `flip`: once each collection's target index holds every image its serving index holds, one
   put of the routing record makes the target serve: gateways read it, so every query from then
   on is embedded and searched by the new model, never a mix. The old model becomes `previous`:
   still embedded for new images and still held, so `rollback` is the same one put backwards.
4. `collect`: the previous model's indexes and vectors are removed (by the operator, or once it
   was kept `INDEXER_MODEL_KEEP_S`), and new images are embedded by the serving model alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from services.common.catalog import Catalog, image_key
from services.common.clients.encoders import EncoderSet
from services.common.errors import ApiError
from services.common.index_signals import IndexEvent
from services.common.routing import ModelRouting, index_id, read_routing, write_routing
from services.common.schemas.indexer import ModelSwitchRequest, ModelSwitchStatus
from services.common.shards import (
    is_deleted,
    pack_vectors,
    read_current,
    tombstone_prefix,
    unpack_vector_ids,
    vector_batch_key,
    vectors_prefix,
)
from services.common.storage import ObjectStore
from services.indexer.publisher import CollectionDeleted, Publisher
from services.indexer.purge import purge_model_index

log = logging.getLogger(__name__)
BUILD_PASSES = 3


class SwitchRefused(Exception):
    """What a switch will not do now, said to the operator (exit status 2, or a 409)."""


@dataclass
class CollectionBuild:
    collection_id: str
    embedded: int = 0
    unreadable: dict[str, str] = field(default_factory=dict)  # image id -> why
    serving: int = 0  # images in the serving model's index
    target: int = 0  # images in the target model's index


@dataclass
class SwitchReport:
    routing: ModelRouting
    collections: list[CollectionBuild] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def embedded(self) -> int:
        return sum(c.embedded for c in self.collections)


def model_ids(store: ObjectStore, collection_id: str, model_version: str, dead: set[str]) -> set[str]:
    """Blocking: the images a model's vectors of a collection hold, less the `dead` (tombstoned) ones."""
    ids: set[str] = set()
    for key in store.list_keys(vectors_prefix(collection_id, model_version)):
        ids.update(unpack_vector_ids(store.get(key)))
    return ids - dead


async def deleted_ids(store: ObjectStore, collection_id: str) -> set[str]:
    return {k.rsplit("/", 1)[1] for k in await store.alist(tombstone_prefix(collection_id))}


class ModelSwitch:
    def __init__(
        self,
        store: ObjectStore,
        catalog: Catalog,
        publisher: Publisher,
        encoders: EncoderSet,
        *,
        batch_size: int = 64,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.store, self.catalog, self.publisher, self.encoders = store, catalog, publisher, encoders
        self.signals = publisher.signals
        self.batch_size = batch_size
        self.progress = progress

    async def routing(self) -> ModelRouting:
        """The routing record, or what it would say now: the primary encoder's model serving."""
        found = await asyncio.to_thread(read_routing, self.store)
        if found is not None:
            return found
        try:
            info = await self.encoders.primary.model_info()
        except Exception as exc:
            raise SwitchRefused(f"the encoder does not answer ({exc}); the serving model is unknown") from exc
        return ModelRouting(serving=info.version, base=info.version)

    async def _write(self, routing: ModelRouting) -> None:
        await asyncio.to_thread(write_routing, self.store, routing)
        await self.signals.bump_epoch()  # answers kept for the old routing are not served again
        log.info("model routing: %s", routing.model_dump_json())

    async def _encoder_for(self, model_version: str) -> None:
        try:
            await self.encoders.get(model_version)
        except ApiError as exc:
            raise SwitchRefused(exc.message) from exc

    async def start(self, to: str) -> ModelRouting:
        """Begin embedding new images by `to` too (idempotent for the switch already running)."""
        routing = await self.routing()
        if routing.target == to:
            return routing
        if routing.target is not None:
            raise SwitchRefused(f"a switch to {routing.target} is running; finish or cancel it first")
        if to == routing.serving:
            raise SwitchRefused(f"model {to} is already serving")
        if to == routing.previous:
            raise SwitchRefused(f"model {to} served before the last switch: roll back to it instead")
        await self._encoder_for(to)
        if routing.previous is not None:  # one kept model at a time: the older one goes now
            await self.collect(routing)
            routing = await self.routing()
        started = routing.model_copy(update={"target": to})
        await self._write(started)
        return started

    async def build(self, routing: ModelRouting) -> SwitchReport:
        """Embed and publish every collection's index for the target, passes until nothing is missing."""
        if routing.target is None:
            raise SwitchRefused("no switch is running")
        report = SwitchReport(routing)
        start = time.perf_counter()
        cids = await asyncio.to_thread(self.catalog.collection_ids)
        for n, cid in enumerate(cids):
            if self.progress is not None:
                self.progress(cid, n, len(cids))
            try:
                report.collections.append(await self._build_collection(routing, cid))
            except CollectionDeleted:
                log.info("collection %s was deleted during the switch", cid)
        report.seconds = time.perf_counter() - start
        return report

    async def _build_collection(self, routing: ModelRouting, cid: str) -> CollectionBuild:
        target = routing.target
        assert target is not None
        client = (await self.encoders.get(target))[0]
        build = CollectionBuild(cid)
        for _ in range(BUILD_PASSES):
            if await asyncio.to_thread(is_deleted, self.store, cid):
                raise CollectionDeleted(cid)
            catalogued = set(await asyncio.to_thread(self.catalog.image_ids, cid))
            dead = await deleted_ids(self.store, cid)
            serving = await asyncio.to_thread(model_ids, self.store, cid, routing.serving, dead)
            have = await asyncio.to_thread(model_ids, self.store, cid, target, dead)
            todo = sorted(((catalogued - dead) | serving) - have - set(build.unreadable))
            for i in range(0, len(todo), self.batch_size):
                chunk = todo[i : i + self.batch_size]
                got = await client.embed_image_keys([image_key(cid, iid) for iid in chunk])
                if got.model_version != target:
                    raise SwitchRefused(f"the encoder of {target} now serves {got.model_version}")
                ok = got.ok
                for j, error in got.errors.items():
                    build.unreadable[chunk[j]] = f"{error.code}: {error.message}"
                if ok:
                    name = "switch-" + hashlib.sha256("\n".join(chunk).encode()).hexdigest()[:24]
                    data = pack_vectors([chunk[j] for j in ok], got.vectors[ok])
                    await self.store.aput(vector_batch_key(cid, target, name), data)
                    build.embedded += len(ok)
            await self.publisher.publish(index_id(cid, target, routing.base), target)
            build.serving, build.target = await self._counts(routing, cid)
            if build.target >= build.serving:
                break
        return build

    async def _counts(self, routing: ModelRouting, cid: str) -> tuple[int, int]:
        """Images in the serving and in the target model's index of a collection."""
        assert routing.target is not None
        counts = []
        for mv in (routing.serving, routing.target):
            pointer = await asyncio.to_thread(read_current, self.store, index_id(cid, mv, routing.base))
            counts.append(pointer.count if pointer is not None else 0)
        return counts[0], counts[1]

    async def flip(self) -> ModelRouting:
        """Make the target serve, in one put, once every collection's target index is complete."""
        routing = await self.routing()
        if routing.target is None:
            raise SwitchRefused("no switch is running")
        await self._encoder_for(routing.target)
        short = []
        for cid in await asyncio.to_thread(self.catalog.collection_ids):
            dead = await deleted_ids(self.store, cid)
            serving_ids = await asyncio.to_thread(model_ids, self.store, cid, routing.serving, dead)
            target_ids = await asyncio.to_thread(model_ids, self.store, cid, routing.target, dead)
            missing = serving_ids - target_ids
            pointer = await asyncio.to_thread(
                read_current, self.store, index_id(cid, routing.target, routing.base)
            )
            if missing or (serving_ids and pointer is None):
                short.append(f"{cid} ({len(missing)} images missing)")
        if short:
            raise SwitchRefused(
                "the new model's indexes are not complete: " + ", ".join(short[:10]) + "; build again"
            )
        flipped = ModelRouting(
            serving=routing.target, base=routing.base, target=None, previous=routing.serving
        )
        await self._write(flipped)
        return flipped

    async def build_and_flip(self, routing: ModelRouting, attempts: int = 3) -> SwitchReport:
        """Build, then flip; a flip refused because uploads arrived meanwhile builds again first."""
        for attempt in range(attempts):
            report = await self.build(routing)
            try:
                report.routing = await self.flip()
                return report
            except SwitchRefused:
                if attempt + 1 == attempts:
                    raise
                log.info("the new model's indexes were not complete yet; building again")
        raise AssertionError("unreachable")

    async def rollback(self) -> ModelRouting:
        """Serve the previous model again (its indexes were kept current), in one put."""
        routing = await self.routing()
        if routing.previous is None:
            raise SwitchRefused("no previous model is kept to roll back to")
        if routing.target is not None:
            raise SwitchRefused(f"a switch to {routing.target} is running; cancel it first")
        await self._encoder_for(routing.previous)
        back = routing.model_copy(update={"serving": routing.previous, "previous": routing.serving})
        await self._write(back)
        return back

    async def cancel(self) -> ModelRouting:
        """Stop a running switch: the target's indexes and vectors are removed, nothing else changes."""
        routing = await self.routing()
        if routing.target is None:
            raise SwitchRefused("no switch is running")
        stopped = routing.model_copy(update={"target": None})
        await self._write(stopped)
        await self._remove_model(routing, routing.target)
        return stopped

    async def collect(self, routing: ModelRouting | None = None) -> ModelRouting:
        """Remove the previous model: new images stop being embedded by it first, then its indexes
        (pointers first, so replicas drop them) and its vectors go."""
        routing = routing or await self.routing()
        if routing.previous is None:
            return routing
        kept = routing.model_copy(update={"previous": None})
        await self._write(kept)
        await self._remove_model(routing, routing.previous)
        return kept

    async def _remove_model(self, routing: ModelRouting, model_version: str) -> None:
        for cid in await asyncio.to_thread(self.catalog.collection_ids):
            iid = index_id(cid, model_version, routing.base)
            await asyncio.to_thread(purge_model_index, self.store, iid)
            await self.signals.announce(IndexEvent(type="dropped", collection_id=iid))
            for key in await self.store.alist(vectors_prefix(cid, model_version)):
                await self.store.adelete(key)


class SwitchRunner:
    """The indexer's side of the admin API: one build at a time, in the background; and the
    collection of a previous model once it was kept `keep_s` after the flip (0: never)."""

    def __init__(self, switch: ModelSwitch, keep_s: float = 0.0, check_s: float = 300.0) -> None:
        self.switch = switch
        self.keep_s, self.check_s = keep_s, check_s
        self._task: asyncio.Task[None] | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._done = self._total = self._embedded = 0
        self._error: str | None = None
        switch.progress = self._progress

    def _progress(self, _cid: str, n: int, total: int) -> None:
        self._done, self._total = n, total

    @property
    def building(self) -> bool:
        return self._task is not None and not self._task.done()

    async def status(self) -> ModelSwitchStatus:
        routing = await self.switch.routing()
        served = await self.switch.encoders.served(fresh=True)  # an admin asking: ask them now
        return ModelSwitchStatus(
            serving=routing.serving,
            target=routing.target,
            previous=routing.previous,
            models=sorted(served),
            building=self.building,
            embedded=self._embedded,
            collections_done=self._done,
            collections_total=self._total,
            error=self._error,
        )

    async def act(self, request: ModelSwitchRequest) -> ModelSwitchStatus:
        """Run one step; a step that cannot be taken now is a 409 saying why."""
        try:
            if request.action == "cancel":
                await self._stop()
                await self.switch.cancel()
            elif self.building:
                raise SwitchRefused("a build is running; wait for it or cancel it")
            elif request.action == "start":
                if request.to is None:
                    raise ApiError(422, "model_required", "`start` needs `to`, the model version.")
                routing = await self.switch.start(request.to)
                self._error, self._embedded, self._done = None, 0, 0
                self._task = asyncio.create_task(self._build(routing, request.flip))
            elif request.action == "flip":
                await self.switch.flip()
            elif request.action == "rollback":
                await self.switch.rollback()
            else:
                await self.switch.collect()
        except SwitchRefused as exc:
            raise ApiError(409, "switch_refused", str(exc)) from exc
        return await self.status()

    async def _build(self, routing: ModelRouting, flip: bool) -> None:
        try:
            build = self.switch.build_and_flip if flip else self.switch.build
            report = await build(routing)
            self._embedded, self._done = report.embedded, len(report.collections)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported by the status; the switch stays where it stopped
            log.exception("model switch to %s stopped", routing.target)
            self._error = f"{type(exc).__name__}: {exc}"[:500]

    async def _stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def start(self) -> None:
        if self.keep_s > 0:
            self._reaper = asyncio.create_task(self._reap())

    async def collect_expired(self) -> bool:
        """Collect the previous model when it was kept long enough; True when it was."""
        routing = await asyncio.to_thread(read_routing, self.switch.store)
        if routing is None or routing.previous is None or self.building:
            return False
        if time.time() - routing.updated_at < self.keep_s:
            return False
        log.info("model %s was kept %.0f s after the flip: collecting it", routing.previous, self.keep_s)
        await self.switch.collect(routing)
        return True

    async def _reap(self) -> None:
        while True:
            try:
                await self.collect_expired()
            except Exception as exc:  # storage or Redis down: the next check retries
                log.warning("collecting the previous model failed: %s", exc)
            await asyncio.sleep(self.check_s)

    async def aclose(self) -> None:
        await self._stop()
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper

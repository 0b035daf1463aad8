"""How replicas learn of index changes: Redis (pub/sub plus version keys) or object storage.

Both the indexer (announcing) and search replicas (listening, checking) use it. A replica
checks `latest()` once per request, so a search right after a finished job or a delete
sees it (read-your-writes); pub/sub and polling keep replicas warm between requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, cast

import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from services.common.redis_client import reconnecting_redis
from services.common.routing import data_collection
from services.common.settings import StorageSettings
from services.common.shards import EVENTS_CHANNEL, read_current, read_tombgen
from services.common.storage import ObjectStore

log = logging.getLogger(__name__)


class IndexEvent(BaseModel):
    type: Literal["version", "tombstones", "dropped"]
    collection_id: str
    value: str = ""


@dataclass(frozen=True)
class Signal:
    version: str | None
    tombgen: str


class IndexSignals(ABC):
    """Announce and read the latest index version and tombstone generation per collection."""

    name: str

    @abstractmethod
    async def announce(self, event: IndexEvent) -> None:
        """Tell every replica; the durable state in storage is written before this call."""

    @abstractmethod
    async def latest(self, collection_ids: list[str]) -> dict[str, Signal]:
        """Latest known signal per collection; raises when the backend does not answer."""

    @abstractmethod
    def events(self) -> AsyncIterator[IndexEvent]:
        """Pushed events; a backend without push yields nothing (replicas poll instead)."""

    async def epoch(self) -> bytes | None:
        """A token that changes whenever anything a search answer depends on changes (an index
        version, tombstones, a dropped collection, a catalog edit through `bump_epoch`), so one
        read tells a cached answer still holds; None when this backend keeps no such token."""
        return None

    async def bump_epoch(self) -> None:
        """Announce a change outside the index (the catalog): every cached answer is stale."""
        return None

    async def aclose(self) -> None:
        return None


class StoreSignals(IndexSignals):
    """No Redis: read the pointer and generation objects (cheap on the local-folder store)."""

    name = "storage"

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def announce(self, event: IndexEvent) -> None:
        return None  # the pointer and generation objects are the signal

    def _read(self, collection_ids: list[str]) -> dict[str, Signal]:
        out = {}
        for cid in collection_ids:
            pointer = read_current(self.store, cid)
            gen = read_tombgen(self.store, data_collection(cid))
            out[cid] = Signal(pointer.version if pointer else None, gen)
        return out

    async def latest(self, collection_ids: list[str]) -> dict[str, Signal]:
        return await asyncio.to_thread(self._read, collection_ids)

    async def events(self) -> AsyncIterator[IndexEvent]:
        await asyncio.Event().wait()  # never pushes; polling covers it
        yield IndexEvent(type="version", collection_id="")


def redis_namespace(storage: StorageSettings) -> str:
    """Redis keys are scoped to the data they describe: two stacks sharing one Redis but not
    one bucket (or local folder) never see each other's jobs, locks or index events."""
    if storage.resolved_backend == "s3":
        return f"s3:{storage.s3_endpoint}/{storage.s3_bucket}"
    return "local:" + hashlib.sha256(str(storage.local_root.resolve()).encode()).hexdigest()[:12]


class RedisSignals(IndexSignals):
    name = "redis"

    def __init__(self, url: str, namespace: str, timeout_s: float = 0.25) -> None:
        self.url, self.prefix = url, f"timanh:{namespace}:"
        self.channel = self.prefix + EVENTS_CHANNEL
        self.epoch_key = self.prefix + "search-epoch"
        self.client = reconnecting_redis(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)

    def _key(self, cid: str, part: str) -> str:
        return f"{self.prefix}index:{cid}:{part}"

    def _bump(self, pipe: Pipeline) -> None:
        # A missing epoch (a new or flushed Redis) starts at a random value, never at a count
        # that an answer cached before the flush could still carry.
        pipe.set(self.epoch_key, str(secrets.randbits(62)), nx=True)
        pipe.incr(self.epoch_key)

    async def epoch(self) -> bytes | None:
        value = cast(bytes | None, await self.client.get(self.epoch_key))
        if value is None:
            await self.bump_epoch()
        return value

    async def bump_epoch(self) -> None:
        pipe = self.client.pipeline(transaction=True)
        self._bump(pipe)
        await pipe.execute()

    async def announce(self, event: IndexEvent) -> None:
        pipe = self.client.pipeline(transaction=True)
        if event.type == "version":
            pipe.set(self._key(event.collection_id, "version"), event.value)
        elif event.type == "tombstones":
            pipe.set(self._key(event.collection_id, "tombgen"), event.value)
        else:
            pipe.delete(self._key(event.collection_id, "version"), self._key(event.collection_id, "tombgen"))
        self._bump(pipe)
        pipe.publish(self.channel, event.model_dump_json())
        await pipe.execute()

    async def latest(self, collection_ids: list[str]) -> dict[str, Signal]:
        if not collection_ids:
            return {}
        # An index id's version is its own; its deleted ids (tombstone generation) its collection's.
        keys = [
            key
            for cid in collection_ids
            for key in (self._key(cid, "version"), self._key(data_collection(cid), "tombgen"))
        ]
        values = cast(list[bytes | None], await self.client.mget(keys))
        out = {}
        for i, cid in enumerate(collection_ids):
            version, gen = values[2 * i], values[2 * i + 1]
            out[cid] = Signal(version.decode() if version else None, gen.decode() if gen else "0")
        return out

    async def events(self) -> AsyncIterator[IndexEvent]:
        """Subscribe (without the short socket timeout), reconnecting until cancelled."""
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2.0)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        yield IndexEvent.model_validate(json.loads(message["data"]))
                    except ValueError:
                        log.warning("ignoring a malformed index event")
            except (RedisError, OSError) as exc:
                log.warning("index events: %s; resubscribing", exc)
                await asyncio.sleep(1.0)
            finally:
                await pubsub.aclose()
                await client.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()


def open_signals(
    redis_url: str | None, store: ObjectStore, storage: StorageSettings, timeout_s: float = 0.25
) -> IndexSignals:
    return RedisSignals(redis_url, redis_namespace(storage), timeout_s) if redis_url else StoreSignals(store)

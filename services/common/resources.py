"""Readiness checks of the shared resources, for each app's lifespan to register."""

from __future__ import annotations

from services.common.cache import Cache
from services.common.clients.base import ServiceClient
from services.common.health import Check
from services.common.storage import ObjectStore


def storage_check(store: ObjectStore) -> Check:
    async def check() -> str | None:
        await store.aping()
        return None

    return Check(f"storage:{store.name}", check)


def cache_check(cache: Cache, required: bool = False) -> Check:
    async def check() -> str | None:
        await cache.ping()
        return None

    return Check(f"cache:{cache.name}", check, required=required)


def peer_check(client: ServiceClient, name: str | None = None) -> Check:
    """The peer process answers `/healthz` (not `/readyz`, so one slow peer does not cascade)."""

    async def check() -> str | None:
        await client.healthz()
        return None

    return Check(name or client.service, check)

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


def peer_check(client: ServiceClient, name: str | None = None, *, ready: bool = False) -> Check:
    """The peer answers `/healthz`; with `ready`, its own `/readyz` too (a leaf such as the encoder,
    whose model may still be loading). Non-leaf peers are checked shallowly so one slow
    dependency does not cascade through every service's readiness."""

    async def check() -> str | None:
        if not ready:
            await client.healthz()
            return None
        readiness = await client.readyz()
        if readiness.status == "ready":
            return None
        return "; ".join(f"{c.name}: {c.reason}" for c in readiness.checks if not c.ok) or "not ready"

    return Check(name or client.service, check)

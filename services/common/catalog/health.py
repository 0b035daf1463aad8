"""The catalog's readiness check, for the lifespans that open a catalog (gateway, indexer)."""

from __future__ import annotations

import asyncio

from services.common.catalog.repository import Catalog
from services.common.health import Check


def catalog_check(catalog: Catalog) -> Check:
    async def check() -> str | None:
        await asyncio.to_thread(catalog.ping)
        return None

    return Check(f"catalog:{catalog.sessions.dialect}", check)

"""How every service shuts down: one protocol for what a lifespan opens, one order for closing it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Closable(Protocol):
    """A resource a lifespan opens (connections, pools, background work); `aclose` releases it."""

    async def aclose(self) -> None: ...


async def shut_down(tasks: Iterable[asyncio.Task[Any]], resources: Iterable[Closable]) -> None:
    """Cancel the background tasks and wait for them (they use the resources), then close each
    resource in the order given; one that fails to close is logged and the rest still close."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for resource in resources:
        try:
            await resource.aclose()
        except Exception:
            log.exception("closing %s failed", type(resource).__name__)

"""Coalescing background work per collection: one run per interval, however often it is asked for.

A thousand deletes in one second cost one fold, not a thousand publishes; the same holds for
the garbage collection of superseded index versions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Debouncer:
    """`poke(key)` runs `action(key)` once, `delay_s` after the first poke since its last run.

    Pokes that arrive while a run waits join it; a poke during a run schedules the next one,
    so the change it stands for is never missed and runs start at least `delay_s` apart."""

    def __init__(self, delay_s: float, action: Callable[[str], Awaitable[object]], what: str) -> None:
        self.delay_s, self.action, self.what = delay_s, action, what
        self._waiting: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def poke(self, key: str) -> None:
        if key in self._waiting:
            return
        self._waiting.add(key)
        task = asyncio.create_task(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: str) -> None:
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self._waiting.discard(key)
        try:
            await self.action(key)
        except Exception:  # the next poke (or the next publish) does it; the trigger itself already holds
            log.exception("%s of %s failed", self.what, key)

    async def idle(self) -> None:
        """Wait until no run is waiting or running (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

"""The pool that decodes, thumbnails and stores uploaded images, apart from every other route's work.

Decoding a large photo takes a worker for a second or more. On the default thread pool, which
every storage call of every route shares, a few such uploads stall listing and readiness too;
here they wait for one of a few threads of their own. Uploads are admitted up to a bound
(workers plus a queue); past it an upload is refused at once with 503 and Retry-After instead
of piling up memory and latency. The threads run at a lower CPU priority, so on a small machine
the event loop and every other route's work go first.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar

from services.common.errors import ApiError

P = ParamSpec("P")
T = TypeVar("T")
RETRY_AFTER_S = 2  # about the time one large image takes a worker
NICENESS = 10  # added to the process's own nice value, so a gateway started under `nice` keeps the gap


def _lower_priority() -> None:
    """Lower this thread's CPU priority (Linux keeps a nice value per thread; elsewhere a no-op)."""
    if hasattr(os, "setpriority") and os.uname().sysname == "Linux":
        tid = threading.get_native_id()
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICENESS))


class ImagePool:
    def __init__(self, workers: int, queue: int) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(
            workers, thread_name_prefix="gateway-images", initializer=_lower_priority
        )
        self.capacity = workers + queue
        self.active = 0

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold one of the pool's upload places for the duration, or raise a 503 when none is free."""
        if self.active >= self.capacity:
            raise ApiError(
                503,
                "uploads_busy",
                f"{self.active} image uploads are being processed; try again in {RETRY_AFTER_S} s.",
                {"retry_after_s": RETRY_AFTER_S},
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        self.active += 1  # the event loop is one thread: check and increment cannot interleave
        try:
            yield
        finally:
            self.active -= 1

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` on one of the pool's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

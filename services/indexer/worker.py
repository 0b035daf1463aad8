"""Job workers: claim, run with a heartbeat, acknowledge; a crash leaves the job to be taken over.

A job is acknowledged only once it is finished (done, or failed for a reason a retry would
not fix). A transient failure (encoder or storage down) leaves it pending, so it is
retried after `claim_idle_s` by whichever worker is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time

from services.common.clients.base import ServiceUnavailable
from services.common.errors import ApiError
from services.common.schemas.indexer import JobItemError
from services.common.storage import StorageError
from services.indexer.ingest import Ingestor
from services.indexer.queue import Claimed, JobQueue

log = logging.getLogger(__name__)
TRANSIENT = (ServiceUnavailable, StorageError, OSError, ConnectionError, TimeoutError)


def consumer_name(n: int) -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{n}"


class Worker:
    def __init__(self, name: str, queue: JobQueue, ingestor: Ingestor) -> None:
        self.name, self.queue, self.ingestor = name, queue, ingestor
        self.busy = False

    async def _beat(self, claimed: Claimed) -> None:
        await self.queue.heartbeat(claimed, self.name)

    async def _keepalive(self, claimed: Claimed) -> None:
        """Heartbeats during long steps too (a big publish), so no live job is taken over."""
        while True:
            await asyncio.sleep(self.queue.claim_idle_s / 3)
            with contextlib.suppress(*TRANSIENT):
                await self._beat(claimed)

    async def run_one(self, claimed: Claimed) -> None:
        keepalive = asyncio.create_task(self._keepalive(claimed))
        try:
            await self.ingestor.run(claimed, lambda: self._beat(claimed))
        except ApiError as exc:  # the source became invalid: a retry would fail the same way
            status = await self.queue.get_status(claimed.job_id)
            if status is not None:
                error = JobItemError(item=claimed.job_id, code=exc.code, message=exc.message)
                status.status, status.updated_at = "failed", time.time()
                status.errors = [*status.errors, error]
                await self.queue.put_status(status)
            log.warning("job %s failed: %s", claimed.job_id, exc.message)
        finally:
            keepalive.cancel()
        await self.queue.ack(claimed)

    async def loop(self) -> None:
        while True:
            try:
                claimed = await self.queue.claim(self.name, block_s=2.0)
                if claimed is None:
                    continue
                self.busy = True
                log.info("worker %s runs job %s", self.name, claimed.job_id)
                await self.run_one(claimed)
            except asyncio.CancelledError:
                raise
            except TRANSIENT as exc:
                log.warning("worker %s: %s; the job stays pending for a retry", self.name, exc)
                await asyncio.sleep(1.0)
            except Exception:
                log.exception("worker %s: unexpected failure; the job stays pending", self.name)
                await asyncio.sleep(1.0)
            finally:
                self.busy = False

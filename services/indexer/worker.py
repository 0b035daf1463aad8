"""Job workers: claim, run with a heartbeat, acknowledge; a crash leaves the job to be taken over.

A job is acknowledged only once it is finished (done, or failed for a reason a retry would
not fix). While a dependency is down (encoder, storage) the worker keeps the job and tries
again with backoff. A job whose worker died, or that failed in an unexpected way, is handed
out again after `claim_idle_s`; the queue counts hand-outs, and a job handed out more than
`max_deliveries` times is marked `failed` with its errors instead of being run again, so no
poison job (nor a worker crash it causes) repeats forever.
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
ATTEMPT_FAILED = "attempt_failed"
MAX_OUTAGE_WAIT_S = 30.0


def consumer_name(n: int) -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{n}"


class Worker:
    def __init__(self, name: str, queue: JobQueue, ingestor: Ingestor, max_deliveries: int) -> None:
        self.name, self.queue, self.ingestor = name, queue, ingestor
        self.max_deliveries = max_deliveries
        self.busy = False

    async def _beat(self, claimed: Claimed) -> None:
        await self.queue.heartbeat(claimed, self.name)

    async def _keepalive(self, claimed: Claimed) -> None:
        """Heartbeats during long steps too (a big publish), so no live job is taken over."""
        while True:
            await asyncio.sleep(self.queue.claim_idle_s / 3)
            with contextlib.suppress(*TRANSIENT):
                await self._beat(claimed)

    async def _fail(self, claimed: Claimed, error: JobItemError) -> None:
        """Mark the job failed for good, keeping the per-item errors it already reported."""
        status = await self.queue.get_status(claimed.job_id)
        if status is not None:
            status.status, status.updated_at = "failed", time.time()
            status.errors = [*status.errors, error]
            await self.queue.put_status(status)

    async def _note_attempt(self, claimed: Claimed, exc: Exception) -> None:
        """Say in the job's status why this try failed (the last reason is what a give-up reports)."""
        with contextlib.suppress(*TRANSIENT):
            status = await self.queue.get_status(claimed.job_id)
            if status is not None:
                reason = f"try {claimed.deliveries}: {type(exc).__name__}: {exc}"[:300]
                note = JobItemError(item=claimed.job_id, code=ATTEMPT_FAILED, message=reason)
                status.errors = [*(e for e in status.errors if e.code != ATTEMPT_FAILED), note]
                status.updated_at = time.time()
                await self.queue.put_status(status)

    async def run_one(self, claimed: Claimed) -> None:
        if claimed.deliveries > self.max_deliveries:
            await self.ingestor.settle_deleted(claimed.request.collection_id)
            message = f"Gave up after {self.max_deliveries} tries."
            await self._fail(
                claimed, JobItemError(item=claimed.job_id, code="too_many_tries", message=message)
            )
            log.warning("job %s failed: handed out %d times", claimed.job_id, claimed.deliveries)
            await self.queue.ack(claimed)
            return
        keepalive = asyncio.create_task(self._keepalive(claimed))
        try:
            await self._run_through_outages(claimed)
        except ApiError as exc:  # the source became invalid: a retry would fail the same way
            await self._fail(claimed, JobItemError(item=claimed.job_id, code=exc.code, message=exc.message))
            log.warning("job %s failed: %s", claimed.job_id, exc.message)
        except Exception as exc:
            await self._note_attempt(claimed, exc)
            raise
        finally:
            keepalive.cancel()
        await self.queue.ack(claimed)

    async def _run_through_outages(self, claimed: Claimed) -> None:
        """A dependency that is down (encoder, storage) is waited for here, with backoff and the
        job kept claimed: an outage never uses up the job's tries. Anything else escapes, and
        the job is handed out again (and counted) once idle."""
        wait = 1.0
        while True:
            try:
                await self.ingestor.run(claimed, lambda: self._beat(claimed))
                return
            except TRANSIENT as exc:
                await self._note_attempt(claimed, exc)
                log.warning("job %s: %s; trying again in %.0f s", claimed.job_id, exc, wait)
                await asyncio.sleep(wait)
                wait = min(MAX_OUTAGE_WAIT_S, wait * 2)

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

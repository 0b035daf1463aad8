"""Jobs on a Redis Stream read through one consumer group shared by every indexer worker.

A dead worker's pending message is taken over with XAUTOCLAIM once idle for
`claim_idle_s`; a live worker resets that clock with XCLAIM ... JUSTID per batch (JUSTID
leaves the delivery counter alone, so XPENDING's count is the number of hand-outs).
"""

from __future__ import annotations

from typing import Any, cast

from redis.exceptions import ResponseError

from services.common.redis_client import reconnecting_redis
from services.common.schemas.indexer import JobRequest, JobStatus
from services.indexer.queue.base import BatchResult, Claimed, JobQueue

GROUP = "indexers"


def job_stream(namespace: str) -> str:
    """The stream holding a namespace's jobs (what an autoscaler watches for backlog)."""
    return f"timanh:{namespace}:jobs"


class RedisJobQueue(JobQueue):
    name = "redis"

    def __init__(
        self, url: str, namespace: str, claim_idle_s: float, status_ttl_s: int = 7 * 24 * 3600
    ) -> None:
        super().__init__(claim_idle_s)
        self.status_ttl_s = status_ttl_s  # how long a finished job's status can still be read
        self.prefix = f"timanh:{namespace}:"
        self.stream = job_stream(namespace)
        # Blocking reads wait longer than the short cache timeouts allow.
        self.client = reconnecting_redis(url, socket_timeout=30, socket_connect_timeout=2)
        self._group_ready = False

    def _status_key(self, job_id: str) -> str:
        return f"{self.prefix}job:{job_id}"

    def _batches_key(self, job_id: str) -> str:
        return f"{self.prefix}job:{job_id}:batches"

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def enqueue(self, status: JobStatus, request: JobRequest) -> None:
        await self._ensure_group()
        await self.client.set(self._status_key(status.job_id), status.model_dump_json(), ex=self.status_ttl_s)
        await self.client.xadd(self.stream, {"job_id": status.job_id, "request": request.model_dump_json()})

    @staticmethod
    def _claimed(message: Any, deliveries: int = 1) -> Claimed:
        msg_id, fields = message
        fields = {k.decode(): v.decode() for k, v in fields.items()}
        request = JobRequest.model_validate_json(fields["request"])
        return Claimed(fields["job_id"], request, msg_id.decode(), deliveries)

    async def _deliveries(self, msg_id: bytes) -> int:
        pending = await self.client.xpending_range(self.stream, GROUP, min=msg_id, max=msg_id, count=1)
        return int(pending[0]["times_delivered"]) if pending else 1

    async def claim(self, consumer: str, block_s: float) -> Claimed | None:
        try:
            return await self._claim(consumer, block_s)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis restarted without its data: the next claim makes the group again (from
            # id 0, so jobs queued since the restart are read), instead of failing forever.
            self._group_ready = False
            return None

    async def _claim(self, consumer: str, block_s: float) -> Claimed | None:
        await self._ensure_group()
        idle_ms = int(self.claim_idle_s * 1000)
        stale = await self.client.xautoclaim(self.stream, GROUP, consumer, idle_ms, "0-0", count=1)
        if stale[1]:
            return self._claimed(stale[1][0], await self._deliveries(stale[1][0][0]))
        fresh: Any = await self.client.xreadgroup(
            GROUP, consumer, {self.stream: ">"}, count=1, block=max(1, int(block_s * 1000))
        )
        if not fresh or not fresh[0][1]:
            return None
        return self._claimed(fresh[0][1][0])

    async def heartbeat(self, claimed: Claimed, consumer: str) -> None:
        await self.client.xclaim(self.stream, GROUP, consumer, 0, [claimed.token], justid=True)

    async def ack(self, claimed: Claimed) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(self.stream, GROUP, claimed.token)
        pipe.xdel(self.stream, claimed.token)
        await pipe.execute()

    async def get_status(self, job_id: str) -> JobStatus | None:
        raw = cast(bytes | None, await self.client.get(self._status_key(job_id)))
        return JobStatus.model_validate_json(raw) if raw else None

    async def put_status(self, status: JobStatus) -> None:
        await self.client.set(self._status_key(status.job_id), status.model_dump_json(), ex=self.status_ttl_s)

    async def record_batch(self, job_id: str, batch: int, result: BatchResult) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self._batches_key(job_id), str(batch), result.model_dump_json())
        pipe.expire(self._batches_key(job_id), self.status_ttl_s)
        await pipe.execute()

    async def batch_results(self, job_id: str) -> dict[int, BatchResult]:
        raw = cast(dict[bytes, bytes], await self.client.hgetall(self._batches_key(job_id)))
        return {int(k): BatchResult.model_validate_json(v) for k, v in raw.items()}

    async def ping(self) -> None:
        await self.client.ping()

    async def aclose(self) -> None:
        await self.client.aclose()

"""What workers need from a queue: claim a job, keep it claimed while alive, acknowledge it.

A job claimed by a worker that then dies (no heartbeat for `claim_idle_s`) is handed to the
next worker that asks; each hand-out is counted (`deliveries`), so a job that keeps failing
is given up on after a bounded number of tries instead of going round forever. Batch results
are stored per batch number, so a job taken over after a crash resumes where it stopped and
never counts a batch twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from pydantic import BaseModel, Field

from services.common.schemas.indexer import JobItemError, JobRequest, JobStatus


class BatchResult(BaseModel):
    done: int
    failed: int
    errors: list[JobItemError] = Field(default_factory=list)


@dataclass(frozen=True)
class Claimed:
    job_id: str
    request: JobRequest
    token: str
    deliveries: int = 1


class JobQueue(ABC):
    name: str

    def __init__(self, claim_idle_s: float) -> None:
        self.claim_idle_s = claim_idle_s

    @abstractmethod
    async def enqueue(self, status: JobStatus, request: JobRequest) -> None:
        """Store the status, then queue the job."""

    @abstractmethod
    async def claim(self, consumer: str, block_s: float) -> Claimed | None:
        """A job abandoned by a dead worker first, else a new one; None after `block_s`."""

    @abstractmethod
    async def heartbeat(self, claimed: Claimed, consumer: str) -> None:
        """Reset the idle clock so no other worker takes the job over."""

    @abstractmethod
    async def ack(self, claimed: Claimed) -> None:
        """The job is finished (done or failed for good)."""

    @abstractmethod
    async def get_status(self, job_id: str) -> JobStatus | None: ...

    @abstractmethod
    async def put_status(self, status: JobStatus) -> None: ...

    @abstractmethod
    async def record_batch(self, job_id: str, batch: int, result: BatchResult) -> None: ...

    @abstractmethod
    async def batch_results(self, job_id: str) -> dict[int, BatchResult]: ...

    @abstractmethod
    async def ping(self) -> None: ...

    async def aclose(self) -> None:
        return None

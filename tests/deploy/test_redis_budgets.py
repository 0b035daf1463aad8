"""Cache pressure cannot evict or block the job stream: the gateway's cache has a Redis of its own.

Two real `redis-server`s with the eviction policies docker-compose.yml gives them and tiny
memory budgets; the gateway's resources are opened from its settings as in production
(`REDIS_URL` for the queue and signals, `GATEWAY_CACHE_REDIS_URL` for the cache), the cache
is filled far past both budgets, and the job stream is checked whole and still writable.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from deploy.harness.servers import redis_server
from gateway.app import open_resources
from gateway.settings import GatewaySettings
from services.common.schemas.indexer import JobRequest, JobStatus, ObjectsSource
from services.indexer.queue.redis_queue import RedisJobQueue
from tests.deploy.helpers import REPO

CACHE_BUDGET = "4mb"
QUEUE_BUDGET = "16mb"
VALUE = 64 * 1024  # about one cached candidate list at its cap
FILL = 400  # 25 MB of cache writes: six times the cache's budget, above the queue's too


def compose_policy(service: str) -> str:
    """The `--maxmemory-policy` docker-compose.yml runs `service` with."""
    command: list[str] = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"][service][
        "command"
    ]
    return command[command.index("--maxmemory-policy") + 1]


@pytest.fixture
def queue_redis() -> Iterator[str]:
    with redis_server("--maxmemory", QUEUE_BUDGET, "--maxmemory-policy", compose_policy("redis")) as (url, _):
        yield url


@pytest.fixture
def cache_redis() -> Iterator[str]:
    options = ("--maxmemory", CACHE_BUDGET, "--maxmemory-policy", compose_policy("redis-cache"))
    with redis_server(*options) as (url, _):
        yield url


def _job(collection_id: str) -> tuple[JobStatus, JobRequest]:
    now = time.time()
    status = JobStatus(
        job_id=uuid.uuid4().hex, collection_id=collection_id, status="queued", created_at=now, updated_at=now
    )
    return status, JobRequest(collection_id=collection_id, source=ObjectsSource(image_ids=["a" * 32]))


def _info(url: str, section: str) -> dict[str, Any]:
    info: dict[str, Any] = redis.Redis.from_url(url).info(section)
    return info


async def test_cache_pressure_never_evicts_or_blocks_the_job_stream(
    queue_redis: str, cache_redis: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (compose_policy("redis"), compose_policy("redis-cache")) == ("noeviction", "allkeys-lru")
    monkeypatch.setenv("REDIS_URL", queue_redis)
    monkeypatch.setenv("GATEWAY_CACHE_REDIS_URL", cache_redis)
    monkeypatch.setenv("STORAGE_BACKEND", "local")
    monkeypatch.setenv("STORAGE_LOCAL_ROOT", str(tmp_path / "storage"))
    monkeypatch.setenv("CATALOG_URL", f"sqlite:///{tmp_path / 'catalog.db'}")
    queue = RedisJobQueue(queue_redis, "budgets", claim_idle_s=30)
    resources = await open_resources(GatewaySettings())
    try:
        queued = [_job("c1") for _ in range(20)]
        for status, request in queued:
            await queue.enqueue(status, request)
        before = await queue.client.xrange(queue.stream)

        for i in range(FILL):  # through the gateway's own cache adapter; any error fails the test
            await resources.cache.set(f"candidates:{i}", bytes([i % 251]) * VALUE, 3600)

        cache_memory = _info(cache_redis, "memory")
        assert cache_memory["used_memory"] <= cache_memory["maxmemory"] * 1.1
        assert _info(cache_redis, "stats")["evicted_keys"] > 0, (
            "the cache stayed within its budget by evicting"
        )
        assert await resources.cache.get(f"candidates:{FILL - 1}") == bytes([(FILL - 1) % 251]) * VALUE

        assert await queue.client.xrange(queue.stream) == before, "the job stream is intact"
        for status, _ in queued:
            assert await queue.get_status(status.job_id) == status
        late, request = _job("c2")
        await queue.enqueue(late, request)  # and still writable
        assert await queue.client.xlen(queue.stream) == len(queued) + 1
        assert _info(queue_redis, "stats")["evicted_keys"] == 0
        assert not await queue.client.keys("candidates:*"), "no cache entry in the queue's Redis"
    finally:
        await resources.aclose()
        await queue.aclose()

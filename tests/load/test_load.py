"""Hold a fixed rate of mixed searches and uploads for 60 s against the whole local stack.

An open-loop async client (requests leave on schedule whether or not earlier ones have
answered, so a slow system cannot slow the load down) sends cached and fresh Vietnamese
searches and small uploads, over loopback only. It prints the error rate and latency
percentiles of each kind, fails above 1% errors, and then checks that every image
acknowledged during the run was indexed and is searchable.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import numpy as np
import pytest

from deploy.harness.api import search_ids, wait_job
from deploy.harness.fullstack import RunningStack, ShapeImage, full_stack, vishapes
from deploy.harness.servers import redis_server
from deploy.stack import Stack, free_port, moto_spec

pytestmark = pytest.mark.slow
DURATION_S = 60.0
SEARCHES_PER_S = 8.0  # half repeated captions (cache hits), half new queries
UPLOADS_PER_S = 0.5  # two images each
MAX_ERROR_RATE = 0.01


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    s3 = moto_spec(free_port())
    with (
        redis_server() as (redis_url, _),
        Stack([s3], echo=False).running(),
        full_stack(
            {
                "STORAGE_S3_ENDPOINT": s3.url,
                "STORAGE_S3_BUCKET": f"load-{uuid.uuid4().hex[:12]}",
                "REDIS_URL": redis_url,
                "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
                **{f"{s}_LOG_LEVEL": "warning" for s in ("ENCODER", "INDEXER", "SEARCH", "GATEWAY")},
            }
        ) as running,
    ):
        yield running


@dataclass
class Kind:
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies_ms) + sum(self.errors.values())

    def row(self, name: str) -> str:
        p50, p95, p99 = np.percentile(self.latencies_ms, [50, 95, 99]) if self.latencies_ms else [0.0] * 3
        rate = sum(self.errors.values()) / max(self.count, 1)
        return (
            f"| {name} | {self.count} | {rate:.2%} | {p50:.1f} | {p95:.1f} | {p99:.1f} "
            f"| {dict(self.errors) or ''} |"
        )


async def test_fixed_rate_of_searches_and_uploads(
    stack: RunningStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    images = vishapes(tmp_path_factory.mktemp("vishapes"), 100)
    with httpx.Client(base_url=stack.gateway, timeout=60) as api:
        cid = api.post("/api/v1/collections", json={"name": "tải"}).json()["id"]
        seed = [("files", (i.path.name, i.path.read_bytes(), "image/png")) for i in images[:30]]
        job = api.post(f"/api/v1/collections/{cid}/images", files=seed).json()["job_id"]
        assert wait_job(api, job, 120)["status"] == "done"
    captions = [i.caption for i in images[:30]]
    fresh: list[ShapeImage] = images[30:]
    kinds = {"search (repeated)": Kind(), "search (new)": Kind(), "upload": Kind()}
    acknowledged: set[str] = set()
    jobs: list[str] = []

    async def send(client: httpx.AsyncClient, kind: str, i: int) -> None:
        start = time.perf_counter()
        try:
            if kind == "upload":
                pair = fresh[(2 * i) % len(fresh) : (2 * i) % len(fresh) + 2]
                files = [("files", (p.path.name, p.path.read_bytes(), "image/png")) for p in pair]
                resp = await client.post(f"/api/v1/collections/{cid}/images", files=files)
            else:
                query = captions[i % len(captions)] if kind == "search (repeated)" else f"{captions[0]} {i}"
                resp = await client.post("/api/v1/search", json={"query": query, "collection_id": cid})
        except httpx.HTTPError as exc:
            kinds[kind].errors[type(exc).__name__] = kinds[kind].errors.get(type(exc).__name__, 0) + 1
            return
        if resp.status_code not in (200, 202):
            kinds[kind].errors[str(resp.status_code)] = kinds[kind].errors.get(str(resp.status_code), 0) + 1
            return
        kinds[kind].latencies_ms.append((time.perf_counter() - start) * 1000)
        if kind == "upload":
            body = resp.json()
            acknowledged.update(a["image_id"] for a in body["accepted"] + body["duplicates"])
            jobs.append(body["job_id"])

    schedule = sorted(
        [
            (n / SEARCHES_PER_S, "search (repeated)" if n % 2 else "search (new)", n)
            for n in range(int(DURATION_S * SEARCHES_PER_S))
        ]
        + [(n / UPLOADS_PER_S, "upload", n) for n in range(int(DURATION_S * UPLOADS_PER_S))]
    )
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30, limits=limits) as client:
        tasks = []
        start = time.perf_counter()
        for at, kind, n in schedule:
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(client, kind, n)))
        late_s = time.perf_counter() - start - schedule[-1][0]
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    total = sum(k.count for k in kinds.values())
    errors = sum(sum(k.errors.values()) for k in kinds.values())
    print(
        f"\n{total} requests in {elapsed:.1f} s ({total / elapsed:.1f}/s offered "
        f"{SEARCHES_PER_S + UPLOADS_PER_S:g}/s); errors {errors / total:.2%}\n"
        "| kind | requests | errors | p50 ms | p95 ms | p99 ms | error kinds |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |\n"
        + "\n".join(k.row(name) for name, k in kinds.items())
    )
    assert late_s < 1.0, "the client could not keep the schedule"
    assert total == len(schedule)
    assert errors / total <= MAX_ERROR_RATE
    with httpx.Client(base_url=stack.gateway, timeout=60) as api:
        for job_id in jobs:
            assert wait_job(api, job_id, 120)["status"] == "done"
        deadline = time.monotonic() + 60
        while missing := acknowledged - {
            r["image_id"] for r in search_ids(api, cid, "hình", 200).json()["results"]
        }:
            assert time.monotonic() < deadline, f"{len(missing)} acknowledged images are not searchable"
            time.sleep(0.5)

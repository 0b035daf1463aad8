"""With its cache Redis stopped mid-test a gateway goes on answering, uncached.

The gateway under test is a second one over the package's services, with a cache Redis of its own
(`GATEWAY_CACHE_REDIS_URL`) that only this test starts and stops: every other test keeps its Redis,
whatever order the tests run in.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from deploy.harness.api import accepted_upload as upload
from deploy.harness.api import wait_job
from deploy.harness.fullstack import REPO, RunningStack, ShapeImage
from deploy.harness.ready import wait_ready
from deploy.harness.servers import redis_server
from deploy.stack import Stack, free_port
from tests.integration.gateway.conftest import API_KEY


@pytest.fixture
def own_gateway(system: RunningStack) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    """A gateway sharing the package's services and storage, its cache in a private Redis."""
    shared = system.stack.specs[[s.name for s in system.stack.specs].index("gateway")]
    with redis_server() as (cache_url, cache_redis):
        port = free_port()
        env = {**shared.env, "GATEWAY_PORT": str(port), "GATEWAY_CACHE_REDIS_URL": cache_url}
        spec = dataclasses.replace(shared, name="gateway-own-cache", port=port, env=env)
        with Stack([spec], cwd=str(REPO), echo=False).running(timeout_s=60):
            wait_ready(spec.url)
            with httpx.Client(base_url=spec.url, headers={"X-API-Key": API_KEY}, timeout=60) as client:
                yield client, cache_redis


def test_searches_succeed_with_the_cache_redis_stopped(
    own_gateway: tuple[httpx.Client, subprocess.Popen[bytes]], api: httpx.Client, images: list[ShapeImage]
) -> None:
    client, cache_redis = own_gateway
    collection_id = api.post("/api/v1/collections", json={"name": "Redis down"}).json()["id"]
    body = upload(api, collection_id, [i.path for i in images[:8]])
    assert wait_job(api, str(body["job_id"]))["status"] == "done"
    query = {"query": images[0].caption, "collection_id": collection_id}
    assert client.post("/api/v1/search", json=query).status_code == 200
    assert client.post("/api/v1/search", json=query).json()["cached"] is True  # the cache works
    cache_redis.kill()
    cache_redis.wait()
    for i in range(10):
        resp = client.post("/api/v1/search", json={**query, "query": f"{images[0].caption} {i}"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["cached"] is False
    readiness = client.get("/readyz").json()
    cache = next(c for c in readiness["checks"] if c["name"] == "cache:redis")
    assert cache["ok"] is False and cache["required"] is False
    # The package's own gateway, on the shared Redis, still caches.
    assert api.post("/api/v1/search", json=query).status_code == 200
    assert api.post("/api/v1/search", json=query).json()["cached"] is True

"""With Redis stopped mid-test the gateway goes on answering, uncached (runs last: it stops Redis)."""

from __future__ import annotations

import subprocess

import httpx

from tests.support.fullstack import RunningStack, ShapeImage


def test_searches_succeed_with_redis_stopped(
    system: RunningStack,
    api: httpx.Client,
    private_redis: tuple[str, subprocess.Popen[bytes]],
    indexed: tuple[str, dict[str, ShapeImage]],
) -> None:
    collection_id, by_id = indexed
    caption = next(iter(by_id.values())).caption
    assert (
        api.post("/api/v1/search", json={"query": caption, "collection_id": collection_id}).status_code == 200
    )
    private_redis[1].kill()
    private_redis[1].wait()
    for i in range(10):
        resp = api.post("/api/v1/search", json={"query": f"{caption} {i}", "collection_id": collection_id})
        assert resp.status_code == 200, resp.text
        assert resp.json()["cached"] is False
    readiness = httpx.get(system.gateway + "/readyz").json()
    cache = next(c for c in readiness["checks"] if c["name"] == "cache:redis")
    assert cache["ok"] is False and cache["required"] is False

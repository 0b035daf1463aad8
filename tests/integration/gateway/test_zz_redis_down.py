"""With Redis stopped mid-test the gateway goes on answering, uncached (runs last: it stops Redis)."""

from __future__ import annotations

import subprocess

import httpx

from deploy.harness.api import accepted_upload as upload
from deploy.harness.api import wait_job
from deploy.harness.fullstack import RunningStack, ShapeImage


def test_searches_succeed_with_redis_stopped(
    system: RunningStack,
    api: httpx.Client,
    private_redis: tuple[str, subprocess.Popen[bytes]],
    images: list[ShapeImage],
) -> None:
    # A collection of its own: the fuzzing run before this module may have changed shared ones.
    collection_id = api.post("/api/v1/collections", json={"name": "Redis down"}).json()["id"]
    body = upload(api, collection_id, [i.path for i in images[:8]])
    assert wait_job(api, str(body["job_id"]))["status"] == "done"
    caption = images[0].caption
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

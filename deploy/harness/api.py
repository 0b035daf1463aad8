"""The public API as a test or benchmark drives it: uploads, jobs, searches (blocking httpx)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx


def upload(api: httpx.Client, collection_id: str, paths: list[Path]) -> httpx.Response:
    files = [("files", (p.name, p.read_bytes(), "image/png")) for p in paths]
    return api.post(f"/api/v1/collections/{collection_id}/images", files=files)


def accepted_upload(api: httpx.Client, collection_id: str, paths: list[Path]) -> dict[str, Any]:
    resp = upload(api, collection_id, paths)
    assert resp.status_code == 202, resp.text
    body: dict[str, Any] = resp.json()
    return body


def wait_job(api: httpx.Client, job_id: str, timeout_s: float = 600) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        resp = api.get(f"/api/v1/jobs/{job_id}")
        if resp.status_code == 503:  # a dependency is restarting: ask again, as a client would
            time.sleep(0.5)
            continue
        assert resp.status_code == 200, f"job {job_id}: {resp.status_code} {resp.text}"
        job: dict[str, object] = resp.json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id} did not finish")


def search_ids(api: httpx.Client, collection_id: str, query: str, top_k: int = 200) -> httpx.Response:
    return api.post("/api/v1/search", json={"query": query, "collection_id": collection_id, "top_k": top_k})

"""Deleting a collection is final: a job still queued or running for it writes nothing that stays."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from deploy.harness.fullstack import RunningStack, full_stack
from services.common.settings import StorageSettings
from services.common.shards import deleted_key
from services.common.storage import open_store
from tests.support.index_data import vishapes_pngs
from tests.support.index_stack import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bucket() -> str:
    return f"del-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def system(s3_endpoint: str, redis_url: str, bucket: str) -> Iterator[RunningStack]:
    env = {
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": bucket,
        "REDIS_URL": redis_url,
        "INDEXER_BATCH_SIZE": "16",
        "INDEXER_SHARD_COUNT": "2",
        "SEARCH_SHARD_COUNT": "2",
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
    }
    with full_stack(env) as running:
        yield running


def test_a_collection_deleted_right_after_an_upload_stays_deleted(
    system: RunningStack, s3_endpoint: str, bucket: str
) -> None:
    store = open_store(StorageSettings(backend="s3", s3_endpoint=s3_endpoint, s3_bucket=bucket))
    files = [("files", (f"ảnh {i}.png", data, "image/png")) for i, data in enumerate(vishapes_pngs(150, 21))]
    with httpx.Client(base_url=system.gateway, timeout=60) as api:
        cid = api.post("/api/v1/collections", json={"name": "Xoá ngay"}).json()["id"]
        resp = api.post(f"/api/v1/collections/{cid}/images", files=files)
        assert resp.status_code == 202, resp.text
        accepted = [a["image_id"] for a in resp.json()["accepted"]]
        job_id = resp.json()["job_id"]
        assert len(accepted) == 150
        assert api.delete(f"/api/v1/collections/{cid}").status_code == 204

        indexer = system.urls["indexer"]

        def job_ended() -> bool:
            job = httpx.get(f"{indexer}/v1/jobs/{job_id}", timeout=5).json()
            return bool(job["status"] in ("done", "failed"))

        wait_for(job_ended, 60, f"job {job_id} ended")
        job = httpx.get(f"{indexer}/v1/jobs/{job_id}", timeout=5).json()
        assert job["status"] == "failed" and job["errors"][0]["code"] == "collection_deleted", job

        for image_id in accepted:
            assert api.get(f"/api/v1/images/{image_id}").status_code == 404
        search = api.post("/api/v1/search", json={"query": "hình tròn màu đỏ", "collection_id": cid})
        assert search.status_code == 404, search.text
        assert api.get(f"/api/v1/collections/{cid}").status_code == 404

        # A publish or a new job for it is refused, and nothing of it is left but the marker.
        assert httpx.post(f"{indexer}/v1/collections/{cid}/publish", timeout=10).status_code == 404
        job_body = {"collection_id": cid, "source": {"type": "objects", "image_ids": accepted[:1]}}
        assert httpx.post(f"{indexer}/v1/jobs", json=job_body, timeout=10).status_code == 404
    left = [k for k in store.list_keys() if cid in k or any(i in k for i in accepted)]
    assert left == [deleted_key(cid)]


def test_s3_imports_outside_the_import_prefixes_are_refused(system: RunningStack, bucket: str) -> None:
    with httpx.Client(base_url=system.gateway, timeout=30) as api:
        cid = api.post("/api/v1/collections", json={"name": "Nhập"}).json()["id"]
        for source in (f"s3://{bucket}/images/", f"s3://{bucket}/index/", f"s3://{bucket}/meta/"):
            resp = api.post(f"/api/v1/collections/{cid}/import", json={"source": source})
            assert resp.status_code == 422, resp.text
            assert resp.json()["error"]["code"] == "import_outside_prefixes"

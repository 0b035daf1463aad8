"""A replica that answers without searching a collection makes the answer partial, never cached.

The second replica of this stack expects 4 shards per collection while the index has 2, so it
refuses every version it is offered and holds nothing: it answers, but reports the
collection under `skipped`, the state a replica is in when its first load of a collection
failed or has not finished. The encoder serves the random-init `vi-tiny`, which has no
calibration: the API says so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest

from deploy.harness.api import accepted_upload as upload
from deploy.harness.api import wait_job
from deploy.harness.fullstack import REPO, ShapeImage
from deploy.harness.ready import wait_ready
from deploy.stack import Ports, Stack, service_specs
from tests.integration.gateway.conftest import API_KEY
from tests.support.catalogs import sqlite_url


@pytest.fixture(scope="module")
def gateway(
    s3_endpoint: str, private_redis: tuple[str, object], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {
        "CATALOG_URL": sqlite_url(tmp_path_factory.mktemp("catalog")),
        "ENCODER_MODEL": "vi-tiny",
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": f"skip-{uuid.uuid4().hex[:12]}",
        "REDIS_URL": private_redis[0].rsplit("/", 1)[0] + "/8",
        "GATEWAY_API_KEYS": API_KEY,
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000",
        "SEARCH_SYNC_TIMEOUT_S": "1",
    }
    specs = service_specs(Ports.free(), env, search_shards=[[0], [1]], shard_count=2)
    lost = next(s for s in specs if s.name == "search-2")
    lost.env.update(SEARCH_SHARD_COUNT="4", SEARCH_SHARDS="1")
    stack = Stack(specs, cwd=str(REPO), echo=bool(os.environ.get("STACK_ECHO")))
    with stack.running(timeout_s=120):
        url = next(s.url for s in specs if s.name == "gateway")
        wait_ready(url)
        yield url


@pytest.fixture(scope="module")
def api(gateway: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway, headers={"X-API-Key": API_KEY}, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def cid(api: httpx.Client, images: list[ShapeImage]) -> str:
    cid = str(api.post("/api/v1/collections", json={"name": "Một nửa"}).json()["id"])
    body = upload(api, cid, [i.path for i in images[:12]])
    assert wait_job(api, str(body["job_id"]))["status"] == "done"
    return cid


def test_a_skipped_collection_gives_a_partial_uncached_answer_that_names_it(
    api: httpx.Client, cid: str, images: list[ShapeImage]
) -> None:
    query = {"query": images[0].caption, "collection_id": cid}
    for _ in range(2):
        resp = api.post("/api/v1/search", json=query)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["partial"] is True and answer["cached"] is False
        assert resp.headers["X-Skipped-Collections"] == cid
        assert "X-Missing-Shards" not in resp.headers  # every replica answered
    # Only the shard the healthy replica holds was searched.
    assert 0 < answer["total_candidates"] < 12


def test_an_uncalibrated_model_says_so_and_auto_keeps_everything(api: httpx.Client, cid: str) -> None:
    answer = api.post("/api/v1/search", json={"query": "mèo", "collection_id": cid, "min_score": "auto"})
    body = answer.json()
    assert answer.status_code == 200 and body["calibrated"] is False and body["relevance_threshold"] is None
    assert body["results"] and {r["match"] for r in body["results"]} == {None}
    assert body["empty_reason"] is None

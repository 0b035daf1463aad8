"""Calibrated relevance and the candidate cache, end to end: checkpoint -> encoder -> gateway -> API.

A stack of its own serves a checkpoint with a `calibration.json` (tests/support/calibrated.py)
and keeps its keys in a Redis database of its own, so the cache can be counted.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import redis

from deploy.harness.api import accepted_upload as upload
from deploy.harness.api import wait_job
from deploy.harness.fullstack import RunningStack, ShapeImage, full_stack
from tests.integration.gateway.conftest import API_KEY
from tests.support.calibrated import OUT_OF_DOMAIN, calibrated_checkpoint

DB = 7
URL_LIFETIME_S = 3600  # what `Authenticator.sign` promises


@pytest.fixture(scope="module")
def checkpoint() -> Path:
    return calibrated_checkpoint()


@pytest.fixture(scope="module")
def threshold(checkpoint: Path) -> float:
    return float(json.loads((checkpoint / "calibration.json").read_text())["threshold"])


@pytest.fixture(scope="module")
def redis_db(private_redis: tuple[str, object]) -> str:
    return private_redis[0].rsplit("/", 1)[0] + f"/{DB}"


@pytest.fixture(scope="module")
def stack(s3_endpoint: str, redis_db: str, checkpoint: Path) -> Iterator[RunningStack]:
    env = {
        "ENCODER_MODEL": str(checkpoint),
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": f"rel-{uuid.uuid4().hex[:12]}",
        "REDIS_URL": redis_db,
        "GATEWAY_API_KEYS": API_KEY,
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000",
    }
    with full_stack(env, search_shards=[[0], [1]], shard_count=2) as running:
        yield running


@pytest.fixture(scope="module")
def client(stack: RunningStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway, headers={"X-API-Key": API_KEY}, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def collection(client: httpx.Client, images: list[ShapeImage]) -> str:
    cid = str(client.post("/api/v1/collections", json={"name": "Hiệu chuẩn"}).json()["id"])
    body = upload(client, cid, [i.path for i in images[:40]])
    assert wait_job(client, str(body["job_id"]))["status"] == "done"
    return cid


def _search(client: httpx.Client, **body: object) -> dict:
    resp = client.post("/api/v1/search", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _requests(url: str, route: str) -> float:
    text = httpx.get(url + "/metrics").text
    pattern = rf'http_requests_total\{{[^}}]*route="{re.escape(route)}"[^}}]*\}} ([0-9.e+]+)'
    return sum(float(v) for v in re.findall(pattern, text))


def test_the_encoder_reports_the_checkpoint_threshold(stack: RunningStack, threshold: float) -> None:
    info = httpx.get(stack.urls["encoder"] + "/v1/model").json()
    assert info["calibrated"] is True and info["relevance_threshold"] == pytest.approx(threshold)


def test_results_are_labelled_and_auto_keeps_the_strong_ones(
    client: httpx.Client, collection: str, images: list[ShapeImage], threshold: float
) -> None:
    labels = set()
    for image in images[:5]:
        query = {"query": image.caption, "collection_id": collection, "top_k": 40}
        every = _search(client, **query)
        assert every["calibrated"] is True and every["relevance_threshold"] == pytest.approx(threshold)
        assert len(every["results"]) == 40 and every["empty_reason"] is None
        for r in every["results"]:
            assert r["match"] == ("strong" if r["score"] >= threshold else "weak"), r
            labels.add(r["match"])
        strong = _search(client, **query, min_score="auto")
        assert strong["results"] == [r for r in every["results"] if r["match"] == "strong"]
    assert labels == {"strong", "weak"}


@pytest.mark.parametrize("phrase", OUT_OF_DOMAIN[:2])
def test_out_of_domain_query_with_auto_is_empty_and_says_why(
    client: httpx.Client, collection: str, threshold: float, phrase: str
) -> None:
    body = _search(client, query=phrase, collection_id=collection, min_score="auto")
    assert body["results"] == [] and body["empty_reason"] == "no_strong_match"
    assert body["best_score"] < body["relevance_threshold"] == pytest.approx(threshold)
    closest = _search(client, query=phrase, collection_id=collection)  # one click away
    assert closest["results"] and {r["match"] for r in closest["results"]} == {"weak"}
    assert closest["results"][0]["score"] == pytest.approx(body["best_score"], abs=1e-5)


def test_image_queries_are_not_labelled(client: httpx.Client, collection: str) -> None:
    image_id = _search(client, query="hình tròn", collection_id=collection, top_k=1)["results"][0]["image_id"]
    resp = client.post(
        "/api/v1/search/image", json={"image_id": image_id, "collection_id": collection, "min_score": "auto"}
    )
    body = resp.json()
    assert resp.status_code == 200 and body["calibrated"] is True and body["relevance_threshold"] is None
    assert len(body["results"]) == 20 and {r["match"] for r in body["results"]} == {None}


def test_pages_and_thresholds_share_one_candidate_list(
    stack: RunningStack, client: httpx.Client, collection: str, redis_db: str, threshold: float
) -> None:
    r = redis.Redis.from_url(redis_db)
    keys_before = set(r.scan_iter("qc:*"))
    encodes = _requests(stack.urls["encoder"], "/v1/embed/text")
    fan_outs = sum(_requests(stack.urls[n], "/v1/search") for n in ("search", "search-2"))
    query = {"query": "ba hình vuông màu xanh lá ở bên phải", "collection_id": collection}
    full = _search(client, **query, top_k=40)
    pages = [
        _search(client, **query, top_k=5, offset=5),
        _search(client, **query, top_k=7, offset=33),
        _search(client, **query, top_k=40, min_score=0.2),
        _search(client, **query, top_k=40, min_score=round(threshold, 3)),
        _search(client, **query, top_k=40, min_score="auto"),
        _search(client, **query, top_k=3, offset=1000),
    ]
    assert full["cached"] is False and all(p["cached"] is True for p in pages)
    ids = [x["image_id"] for x in full["results"]]
    assert [x["image_id"] for x in pages[0]["results"]] == ids[5:10]
    assert [x["image_id"] for x in pages[1]["results"]] == ids[33:40]
    assert pages[2]["results"] == [x for x in full["results"] if x["score"] >= 0.2]
    assert pages[5]["results"] == [] and pages[5]["empty_reason"] == "past_the_end"
    assert _requests(stack.urls["encoder"], "/v1/embed/text") - encodes == 1
    assert sum(_requests(stack.urls[n], "/v1/search") for n in ("search", "search-2")) - fan_outs == 2
    new_keys = set(r.scan_iter("qc:*")) - keys_before
    assert len(new_keys) == 1  # one key, whatever the page or threshold
    assert r.strlen(new_keys.pop()) <= 64 * 1024  # GATEWAY_CANDIDATE_CACHE_MAX_BYTES


def test_cached_pages_sign_urls_for_their_full_lifetime(
    client: httpx.Client, collection: str, redis_db: str
) -> None:
    query = {"query": "hai hình tam giác màu đỏ", "collection_id": collection, "top_k": 10}
    assert _search(client, **query)["cached"] is False
    stored = [redis.Redis.from_url(redis_db).get(k) for k in redis.Redis.from_url(redis_db).scan_iter("qc:*")]
    assert stored and not any(b"sig=" in (v or b"") for v in stored), "signed URLs are never cached"
    cached = _search(client, **query)
    assert cached["cached"] is True
    now = time.time()
    for result in cached["results"]:
        for url in (result["url"], result["thumbnail_url"]):
            exp = int(parse_qs(urlparse(url).query)["exp"][0])
            assert exp - now >= URL_LIFETIME_S - 5, url
            assert httpx.get(str(client.base_url).rstrip("/") + url).status_code == 200  # no key

"""The index stack for tests: encoder, indexers and search replicas as real processes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

from deploy.stack import Ports, ProcessSpec, service_specs
from services.common.schemas.search import SearchParams
from services.common.shards import unpack_vectors, vectors_prefix
from services.common.storage import ObjectStore

REPO = Path(__file__).resolve().parents[2]


def index_specs(
    s3_endpoint: str,
    redis_url: str,
    bucket: str,
    *,
    indexers: int,
    search_shards: list[list[int]],
    catalog_url: str,
    **env: str,
) -> list[ProcessSpec]:
    """The index stack on one bucket; `catalog_url` is the catalog database its indexers share with
    the test (which makes the collections and stores the images there)."""
    base = {
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": bucket,
        "REDIS_URL": redis_url,
        "CATALOG_URL": catalog_url,
        "ENCODER_MODEL": "vi-tiny",
        "INDEXER_CLAIM_IDLE_S": "3",
        "INDEXER_LOCK_TTL_S": "3",
        "SEARCH_FAISS_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        **env,
    }
    specs = service_specs(Ports.free(), base, indexers=indexers, search_shards=search_shards, shard_count=4)
    return [s for s in specs if s.name != "gateway"]


def new_bucket() -> str:
    return f"idx-{uuid.uuid4().hex[:12]}"


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} within {timeout_s:g}s")


def stored_vectors(store: ObjectStore, cid: str) -> tuple[list[str], np.ndarray]:
    """Every (id, vector) the indexer stored for the collection, one per id."""
    by_id: dict[str, np.ndarray] = {}
    for key in store.list_keys(vectors_prefix(cid)):
        ids, x = unpack_vectors(store.get(key))
        by_id.update(zip(ids, x, strict=True))
    ids = sorted(by_id)
    return ids, np.stack([by_id[i] for i in ids])


def merged_search(urls: list[str], q: np.ndarray, params: SearchParams) -> list[list[tuple[float, str]]]:
    """What the gateway does: ask every replica, merge by score."""
    from services.common.clients.search import encode_search

    merged: list[list[tuple[float, str]]] = [[] for _ in range(len(q))]
    for url in urls:
        resp = httpx.post(
            url + "/v1/search",
            content=encode_search(q, params),
            headers={"Content-Type": "application/x-msgpack"},
            timeout=30,
        )
        resp.raise_for_status()
        for i, hits in enumerate(resp.json()["results"]):
            merged[i] += [(h["score"], h["image_id"]) for h in hits]
    return [sorted(m, key=lambda h: (-h[0], h[1]))[: params.k] for m in merged]

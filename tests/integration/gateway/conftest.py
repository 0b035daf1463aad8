"""One running system for the gateway's tests: a private Redis (so a test can stop it), S3, all services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.harness.api import accepted_upload, wait_job
from deploy.harness.fullstack import RunningStack, ShapeImage, full_stack, vishapes
from deploy.harness.servers import redis_server

API_KEY = "gateway-test-key"  # a constant: test modules import it, and conftest may load twice
IMAGE_BYTES = 1024 * 1024  # one image's limit, the gateway's and the encoder's alike
UPLOAD_PLACES = 8  # uploads the gateway's image pool admits at once (workers and queue)
# Keys with roles next to the plain (admin) API_KEY: test_roles.py uses them.
ROLE_KEYS = {"read": "gateway-read-key", "write": "gateway-write-key", "write-2": "gateway-write-key-2"}


@pytest.fixture(scope="package")
def private_redis() -> Iterator[tuple[str, object]]:
    with redis_server() as (url, proc):
        yield url, proc


@pytest.fixture(scope="package")
def import_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one server folder the indexer may import from."""
    return tmp_path_factory.mktemp("import-root")


@pytest.fixture(scope="package")
def system(s3_endpoint: str, private_redis: tuple[str, object], import_root: Path) -> Iterator[RunningStack]:
    env = {
        "INDEXER_IMPORT_ROOTS": str(import_root),
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": f"gw-{uuid.uuid4().hex[:12]}",
        "REDIS_URL": private_redis[0],
        "GATEWAY_API_KEYS": ",".join([API_KEY, *(f"{r.split('-')[0]}:{k}" for r, k in ROLE_KEYS.items())]),
        "GATEWAY_MAX_REQUEST_BYTES": str(2 * 1024 * 1024),
        "GATEWAY_MAX_IMAGE_BYTES": str(IMAGE_BYTES),
        "ENCODER_MAX_IMAGE_BYTES": str(IMAGE_BYTES),
        "GATEWAY_IMAGE_WORKERS": "2",
        "GATEWAY_MAX_QUEUED_UPLOADS": str(UPLOAD_PLACES - 2),
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000",
        "INDEXER_SHARD_COUNT": "2",
        "SEARCH_SHARD_COUNT": "2",
    }
    with full_stack(env) as running:
        yield running


@pytest.fixture(scope="package")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[ShapeImage]:
    return vishapes(tmp_path_factory.mktemp("vishapes"), 60)


@pytest.fixture(scope="package")
def api(system: RunningStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=system.gateway, headers={"X-API-Key": API_KEY}, timeout=60) as client:
        yield client


@pytest.fixture(scope="package")
def indexed(api: httpx.Client, images: list[ShapeImage]) -> tuple[str, dict[str, ShapeImage]]:
    """A collection holding the first 40 images, indexed; returns its id and image id -> image."""
    collection_id = api.post("/api/v1/collections", json={"name": "Hình khối"}).json()["id"]
    body = accepted_upload(api, collection_id, [i.path for i in images[:40]])
    assert wait_job(api, str(body["job_id"]))["status"] == "done"
    by_name = {i.path.name: i for i in images}
    accepted = body["accepted"]
    assert isinstance(accepted, list)
    return collection_id, {a["image_id"]: by_name[a["filename"]] for a in accepted}

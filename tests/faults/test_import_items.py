"""Imports of files as people name and size them end: real indexer, encoder and S3, no retry loop.

Keys with spaces, diacritics, `#`, `(1)` and `–` used to fail key validation, leave the job
pending and come round again every `claim_idle_s`, forever; a file over the byte limit is
skipped with its own error instead of being read whole."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from deploy.harness.ready import wait_ready
from deploy.stack import Stack
from services.common.settings import StorageSettings
from services.common.storage import open_store
from services.common.storage.s3 import S3ObjectStore
from tests.support.catalogs import catalog_with, sqlite_url
from tests.support.index_data import vishapes_pngs
from tests.support.index_stack import REPO, index_specs, new_bucket, wait_for

pytestmark = pytest.mark.slow
NAMES = ["photos/ảnh 1.jpg", "IMG 0001.jpg", "Hà Nội #2 (1).png", "mùa thu – lá vàng.png"]
MAX_BYTES = 65536


def noise_png(side: int = 256) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (side, side, 3), dtype=np.uint8)).save(
        buf, "PNG"
    )
    return buf.getvalue()


def test_import_of_odd_names_and_a_huge_file_ends_done(
    s3_endpoint: str, redis_url: str, tmp_path: Path
) -> None:
    bucket = new_bucket()
    storage = StorageSettings(backend="s3", s3_endpoint=s3_endpoint, s3_bucket=bucket)
    store = open_store(storage)
    assert isinstance(store, S3ObjectStore)
    store.ensure_bucket()
    big = noise_png()
    assert len(big) > MAX_BYTES
    for key, data in [*zip(NAMES, vishapes_pngs(len(NAMES), seed=9), strict=True), ("huge photo.png", big)]:
        store.client.put_object(bucket, f"imports/{key}", io.BytesIO(data), len(data))
    specs = index_specs(
        s3_endpoint,
        redis_url,
        bucket,
        indexers=1,
        search_shards=[[]],
        catalog_url=sqlite_url(tmp_path),
        INDEXER_MAX_IMAGE_BYTES=str(MAX_BYTES),
        INDEXER_CLAIM_IDLE_S="1",
    )
    indexer = next(s for s in specs if s.name == "indexer")
    catalog = catalog_with(store, sqlite_url(tmp_path), "odd")
    with Stack(specs, cwd=str(REPO), echo=False).running(timeout_s=120):
        for spec in specs:
            wait_ready(spec.url)
        body = {"collection_id": "odd", "source": {"type": "prefix", "uri": f"s3://{bucket}/imports/"}}
        resp = httpx.post(f"{indexer.url}/v1/jobs", json=body, timeout=10)
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        started = time.monotonic()

        def ended() -> bool:
            status = httpx.get(f"{indexer.url}/v1/jobs/{job_id}", timeout=5).json()
            return bool(status["status"] in ("done", "failed"))

        wait_for(ended, 45, "the import ended")
        job = httpx.get(f"{indexer.url}/v1/jobs/{job_id}", timeout=5).json()
    assert time.monotonic() - started < 45
    assert (job["status"], job["total"], job["done"], job["failed"]) == ("done", 5, 4, 1), job
    assert [(e["item"], e["code"]) for e in job["errors"]] == [("imports/huge photo.png", "file_too_large")]
    names = sorted(r.filename for r in map(catalog.get_image, catalog.image_ids("odd")) if r is not None)
    assert names == sorted(n.rsplit("/", 1)[-1] for n in NAMES)

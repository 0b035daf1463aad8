"""Bulk embedding on Ray Data (`python -m services.indexer.bulk`): 2,000 images in the S3 server,
embedded on a local Ray, searchable through the gateway; a Ray worker killed mid-run, then the
command itself, then a rerun: every image indexed exactly once. Deleted images stay deleted,
the clip-retrieval layout it writes is read back by the embeddings import, and what it refuses,
it says (exit status 2)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import httpx
import numpy as np
import psutil
import pytest

from deploy.harness.fullstack import REPO, RunningStack, demo_model, full_stack
from services.common.catalog import image_id_for, open_catalog, referenced_image_id
from services.common.settings import CatalogSettings, StorageSettings
from services.common.shards import Manifest, read_current, tombstone_key, unpack_ids, unpack_vectors
from services.common.storage import ObjectStore, open_store
from tests.support.index_data import vishapes_pngs
from tests.support.index_stack import wait_for

pytestmark = pytest.mark.slow

IMAGES = 2_000
PREFIX = "imports/thu-vien/"


@pytest.fixture(scope="module")
def bucket() -> str:
    return f"bulk-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def system(s3_endpoint: str, redis_url: str, bucket: str) -> Iterator[RunningStack]:
    env = {
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": bucket,
        "REDIS_URL": redis_url,
        "INDEXER_SHARD_COUNT": "2",
        "SEARCH_SHARD_COUNT": "2",
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
    }
    with full_stack(env) as running:
        yield running


class Bulk:
    """The bulk command as a process, its standard error read line by line as it comes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        cmd = [sys.executable, "-m", "services.indexer.bulk", *argv]
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.out: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(pipe, into), daemon=True)
            for pipe, into in ((self.proc.stderr, self.lines), (self.proc.stdout, self.out))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(pipe: IO[str] | None, into: list[str]) -> None:
        assert pipe is not None
        for line in pipe:
            into.append(line)

    def partitions_written(self) -> int:
        return sum("written:" in line for line in self.lines)

    def wait(self, timeout_s: float) -> int:
        code = self.proc.wait(timeout=timeout_s)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def summary(self, timeout_s: float) -> dict[str, object]:
        code = self.wait(timeout_s)
        assert code == 0, "".join(self.lines[-30:])
        result: dict[str, object] = json.loads(self.out[-1])
        return result


def bulk_env(tmp_path: Path, storage: dict[str, str], catalog_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **storage,
        "CATALOG_URL": catalog_url,
        "INDEXER_QUEUE_PATH": str(tmp_path / "queue" / "q.sqlite"),
        "INDEXER_SHARD_COUNT": "2",
        "OMP_WAIT_POLICY": "PASSIVE",
        **extra,
    }


def embedding_worker(root: psutil.Process) -> psutil.Process | None:
    """A Ray worker process under `root` that runs the model actor."""
    for proc in root.children(recursive=True):
        try:
            if "ImageEmbedder" in " ".join(proc.cmdline()):
                return proc
        except psutil.Error:
            continue
    return None


def indexed_ids(store: ObjectStore, cid: str) -> list[str]:
    pointer = read_current(store, cid)
    assert pointer is not None
    manifest = Manifest.model_validate_json(store.get(pointer.manifest_key))
    return [i for s in manifest.shards for seg in s.segments for i in unpack_ids(store.get(seg.ids_key))]


def stored_vectors(store: ObjectStore, cid: str) -> dict[str, list[np.ndarray]]:
    found: dict[str, list[np.ndarray]] = {}
    for key in store.list_keys(f"vectors/{cid}/"):
        ids, vectors = unpack_vectors(store.get(key))
        for iid, vec in zip(ids, vectors, strict=True):
            found.setdefault(iid, []).append(vec)
    return found


def test_two_thousand_images_survive_a_killed_worker_and_are_searchable_once(
    system: RunningStack, s3_endpoint: str, redis_url: str, bucket: str, tmp_path: Path
) -> None:
    store = open_store(StorageSettings(backend="s3", s3_endpoint=s3_endpoint, s3_bucket=bucket))
    pngs = vishapes_pngs(IMAGES, seed=18)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: store.put(f"{PREFIX}anh-{i:04d}.png", pngs[i], "image/png"), range(IMAGES)))
    api = httpx.Client(base_url=system.gateway, timeout=60)
    cid = api.post("/api/v1/collections", json={"name": "Thư viện cũ"}).json()["id"]
    expected = {image_id_for(cid, hashlib.sha256(data).hexdigest()) for data in pngs}
    assert len(expected) == IMAGES
    storage = {"STORAGE_BACKEND": "s3", "STORAGE_S3_ENDPOINT": s3_endpoint, "STORAGE_S3_BUCKET": bucket}
    env = bulk_env(tmp_path, storage, system.catalog_url, REDIS_URL=redis_url,
                   INDEXER_ENCODER_URL=system.urls["encoder"])  # fmt: skip
    argv = ["--collection", cid, "--source", f"s3://{bucket}/{PREFIX}", "--model", demo_model(),
            "--num-cpus", "2", "--partition-size", "200", "--batch-size", "50"]  # fmt: skip

    first = Bulk(argv, env)
    wait_for(lambda: first.partitions_written() >= 1, 240, "a first partition written")
    driver = psutil.Process(first.proc.pid)
    worker = embedding_worker(driver)
    assert worker is not None and first.proc.poll() is None, "".join(first.lines[-30:])
    worker.send_signal(signal.SIGKILL)
    # Ray replaces the actor and goes on; then the command itself dies, with its local Ray.
    wait_for(lambda: first.partitions_written() >= 3 or first.proc.poll() is not None, 240, "more partitions")
    ray_processes = driver.children(recursive=True)
    driver.send_signal(signal.SIGKILL)
    for proc in ray_processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(ray_processes, timeout=30)
    first.wait(60)
    killed_run = "".join(first.lines)

    second = Bulk(argv, env).summary(300)
    assert second["images"] == IMAGES and second["rejected"] == {}, (killed_run[-2000:], second)
    assert second["index_count"] == IMAGES
    resumed, written = int(str(second["resumed"])), int(str(second["written"]))
    assert 600 <= resumed == IMAGES - written  # what the killed run wrote was kept, not redone
    indexed = indexed_ids(store, cid)
    assert len(indexed) == len(set(indexed)) == IMAGES and set(indexed) == expected
    assert all(len(v) == 1 for v in stored_vectors(store, cid).values())  # no image embedded twice

    def searchable() -> bool:
        body = {"query": "hình tròn màu đỏ", "collection_id": cid, "top_k": 10}
        resp = api.post("/api/v1/search", json=body)
        return resp.status_code == 200 and resp.json()["total_candidates"] == IMAGES

    wait_for(searchable, 60, "the published version searchable")
    hits = api.post("/api/v1/search", json={"query": "hình vuông", "collection_id": cid, "top_k": 10}).json()
    assert len(hits["results"]) == 10 and {h["image_id"] for h in hits["results"]} <= expected
    assert api.get(f"/api/v1/collections/{cid}").json()["image_count"] == IMAGES
    image = api.get(f"/api/v1/images/{hits['results'][0]['image_id']}").json()
    assert image["filename"].startswith("anh-") and image["folder"] == PREFIX.rstrip("/")
    api.close()


def test_deleted_images_stay_deleted_a_stored_model_is_fetched_and_clip_retrieval_output_reads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "roots"
    (root / "album").mkdir(parents=True)
    pngs = vishapes_pngs(120, seed=5)
    for i, data in enumerate(pngs):
        (root / "album" / f"{i:03d}.png").write_bytes(data)
    (root / "album" / "hỏng.png").write_bytes(b"\x89PNG\r\n\x1a\nnot an image")
    storage = {"STORAGE_BACKEND": "local", "STORAGE_LOCAL_ROOT": str(tmp_path / "storage")}
    catalog_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    store = open_store(StorageSettings(backend="local", local_root=tmp_path / "storage"))
    catalog = open_catalog(CatalogSettings(url=catalog_url), store)
    cid, copy = catalog.create_collection("Album").id, catalog.create_collection("Bản sao").id
    gone = image_id_for(cid, hashlib.sha256(pngs[7]).hexdigest())
    store.put(tombstone_key(cid, gone), b"")
    # The model as Kubernetes names it: a checkpoint in storage, which every actor copies itself.
    for path in Path(demo_model()).rglob("*"):
        if path.is_file():
            store.put(f"models/demo/{path.relative_to(demo_model())}", path.read_bytes())
    env = bulk_env(tmp_path, storage, catalog_url, INDEXER_IMPORT_ROOTS=str(root),
                   INDEXER_ENCODER_URL="http://127.0.0.1:9")  # fmt: skip
    env.pop("REDIS_URL", None)
    out = tmp_path / "emb"
    argv = ["--collection", cid, "--source", "album", "--model", "store:models/demo", "--num-cpus", "2",
            "--partition-size", "50", "--write", "clip-retrieval", str(out)]  # fmt: skip

    summary = Bulk(argv, env).summary(300)
    assert summary["kept_deleted"] == 1 and summary["rejected"] == {"corrupt_image": 1}
    assert summary["written"] == summary["index_count"] == 119
    assert gone not in indexed_ids(store, cid) and catalog.count_images(cid) == 119

    from services.indexer import bulk_import

    for name, value in env.items():  # the import runs in this process, on the same settings
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    dim = np.load(out / "img_emb" / "img_emb_0.npy").shape[1]
    version = str(summary["model_version"])
    code = bulk_import.main([str(out), "--collection", copy, "--model-version", version, "--dim", str(dim)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    result = json.loads(printed.out.strip().splitlines()[-1])
    assert result["written"] == 119, result
    ours = {iid: v[0] for iid, v in stored_vectors(store, cid).items()}
    theirs = {iid: v[0] for iid, v in stored_vectors(store, copy).items()}
    path = str(root.resolve() / "album" / "003.png")
    first = image_id_for(cid, hashlib.sha256(pngs[3]).hexdigest())
    assert np.allclose(theirs[referenced_image_id(copy, path)], ours[first], atol=2e-3)  # float16 copy
    catalog.sessions.dispose()


def test_what_it_refuses_it_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.indexer import bulk

    (tmp_path / "roots" / "album").mkdir(parents=True)
    storage = {"STORAGE_BACKEND": "local", "STORAGE_LOCAL_ROOT": str(tmp_path / "storage")}
    catalog_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    env = bulk_env(tmp_path, storage, catalog_url, INDEXER_IMPORT_ROOTS=str(tmp_path / "roots"),
                   INDEXER_ENCODER_URL="http://127.0.0.1:9")  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    store = open_store(StorageSettings(backend="local", local_root=tmp_path / "storage"))
    catalog = open_catalog(CatalogSettings(url=catalog_url), store)
    cid = catalog.create_collection("Từ chối").id
    catalog.sessions.dispose()
    base = ["--collection", cid, "--model", demo_model()]

    def refused(argv: list[str]) -> str:
        assert bulk.main(argv) == 2
        return capsys.readouterr().err

    assert "does not exist" in refused([*base[:1], "nope", *base[2:], "--source", "album"])
    assert "allowed import root" in refused([*base, "--source", "../elsewhere"])
    assert "Only the configured bucket" in refused([*base, "--source", "s3://other-bucket/imports/x"])
    assert "no checkpoint under 'models/x'" in refused(
        [*base[:2], "--model", "store:models/x", "--source", "album"]
    )
    assert "clip-retrieval" in refused([*base, "--source", "album", "--write", "parquet", str(tmp_path)])
    assert "at least 1" in refused([*base, "--source", "album", "--batch-size", "0"])
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    assert "--num-cpus" in refused([*base, "--source", "album", "--num-cpus", "2"])

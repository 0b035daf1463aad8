"""Parts of the running system fail one at a time; each test checks that the gateway stays up,
that callers get answers they can act on, and that nothing acknowledged is lost.

One stack serves every test (a private Redis and an S3 server as restartable processes, two
search replicas over two shards); each test repairs what it breaks. The S3 test runs last:
moto keeps its objects in memory, so restarting it empties the bucket.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from minio import Minio
from sqlalchemy import create_engine, text

from deploy.harness.api import accepted_upload, search_ids, upload, wait_job
from deploy.harness.fullstack import RunningStack, ShapeImage, full_stack, vishapes
from deploy.harness.servers import redis_answers
from deploy.stack import free_port

pytestmark = pytest.mark.slow
BUCKET = f"faults-{uuid.uuid4().hex[:12]}"


class Restartable:
    """A server process that a test can kill (SIGKILL), pause (SIGSTOP) and start again on its port."""

    def __init__(self, argv: list[str], ready: Callable[[], bool]) -> None:
        self.argv, self.ready = argv, ready
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 20) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while not self.ready():
            assert self.proc.poll() is None, f"{self.argv[0]} exited"
            assert time.monotonic() < deadline, f"{self.argv} did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)


def _s3_answers(port: int) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5).status_code < 500
    return False


def make_bucket(port: int) -> None:
    client = Minio(f"127.0.0.1:{port}", access_key="minioadmin", secret_key="minioadmin", secure=False)
    if not client.bucket_exists(BUCKET):
        client.make_bucket(BUCKET)


@dataclass
class System:
    running: RunningStack
    api: httpx.Client
    redis: Restartable
    s3: Restartable
    redis_url: str
    s3_port: int
    images: list[ShapeImage]
    cid: str = ""
    indexed: dict[str, ShapeImage] = field(default_factory=dict)  # image id -> image

    def accept(self, body: dict[str, Any]) -> set[str]:
        """Remember an upload's accepted images as indexed-to-be; returns their ids."""
        by_name = {i.path.name: i for i in self.images}
        accepted = {a["image_id"]: by_name[a["filename"]] for a in body["accepted"]}
        self.indexed.update(accepted)
        return set(accepted)

    def gateway_up(self) -> bool:
        return httpx.get(self.running.gateway + "/healthz", timeout=5).status_code == 200


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    redis_port, s3_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    redis_dir = tmp_path_factory.mktemp("redis")
    redis = Restartable(
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(redis_dir),
        ],
        lambda: redis_answers(redis_url),
    )
    s3 = Restartable(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
        lambda: _s3_answers(s3_port),
    )
    redis.start()
    s3.start()
    make_bucket(s3_port)
    env = {
        "STORAGE_S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
        "STORAGE_S3_BUCKET": BUCKET,
        "STORAGE_TIMEOUT_S": "2",
        "REDIS_URL": redis_url,
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
        "INDEXER_CLAIM_IDLE_S": "4",
        "INDEXER_BATCH_SIZE": "8",
        "INDEXER_INDEX_TYPE": "Flat",
    }
    images = vishapes(tmp_path_factory.mktemp("vishapes"), 200)
    try:
        with (
            full_stack(env, search_shards=[[0], [1]], shard_count=2) as running,
            httpx.Client(base_url=running.gateway, timeout=60) as api,
        ):
            sys_ = System(running, api, redis, s3, redis_url, s3_port, images)
            sys_.cid = api.post("/api/v1/collections", json={"name": "sự cố"}).json()["id"]
            body = accepted_upload(api, sys_.cid, [i.path for i in images[:40]])
            assert wait_job(api, str(body["job_id"]), 120)["status"] == "done"
            sys_.accept(body)
            yield sys_
    finally:
        for server in (redis, s3):
            if server.proc is not None and server.proc.poll() is None:
                server.kill()


def found(api: httpx.Client, cid: str, query: str = "hình tròn", whole: bool = True) -> set[str]:
    resp = search_ids(api, cid, query)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    if whole:
        assert body["partial"] is False
    elif body["partial"]:
        return set()
    return {r["image_id"] for r in body["results"]}


def wait_searchable(api: httpx.Client, cid: str, ids: set[str], timeout_s: float = 60) -> None:
    """Until every id is found by a whole answer; while a replica is still loading the collection's
    new version (after storage came back, say) an answer may say it is partial, and is asked again."""
    deadline = time.monotonic() + timeout_s
    while (missing := ids - found(api, cid, whole=False)) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not missing, f"{len(missing)} acknowledged images are not searchable"
    assert ids <= found(api, cid)  # and a whole answer holds them all


@dataclass
class Searcher:
    """Searches back to back on a thread, keeping every status code seen."""

    api: httpx.Client
    cid: str
    queries: list[str]
    statuses: list[int] = field(default_factory=list)
    cached: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            query = self.queries[i % len(self.queries)] if i % 2 else f"{self.queries[0]} {i}"
            resp = search_ids(self.api, self.cid, query, 20)
            self.statuses.append(resp.status_code)
            self.cached += resp.status_code == 200 and resp.json()["cached"]
            i += 1

    @contextlib.contextmanager
    def running(self) -> Iterator[Searcher]:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            thread.join(60)


def test_redis_killed_and_restarted_during_searches(system: System) -> None:
    api, cid = system.api, system.cid
    queries = [img.caption for img in list(system.indexed.values())[:4]]
    with Searcher(api, cid, queries).running() as searcher:
        time.sleep(1.5)
        system.redis.kill()
        time.sleep(3)
        assert not redis_answers(system.redis_url)
        system.redis.start()
        time.sleep(7)  # past the gateway's circuit breaker: the cache is used again
    assert len(searcher.statuses) > 10
    assert set(searcher.statuses) == {200}, f"searches failed: {sorted(set(searcher.statuses))}"
    assert system.gateway_up()
    # The cache works again, and the restarted (empty) Redis still queues and runs new jobs.
    assert search_ids(api, cid, queries[0], 20).status_code == 200
    assert search_ids(api, cid, queries[0], 20).json()["cached"] is True
    assert found(api, cid) == set(system.indexed)
    body = accepted_upload(api, cid, [i.path for i in system.images[40:48]])
    assert wait_job(api, str(body["job_id"]), 120)["status"] == "done"
    assert len(system.accept(body)) == 8
    wait_searchable(api, cid, set(system.indexed))


def test_search_replica_killed_gives_partial_then_full_results(system: System) -> None:
    api, cid, stack = system.api, system.cid, system.running.stack
    every = found(api, cid, "một hình vuông màu xanh")  # top_k 200: the whole collection
    assert every == set(system.indexed)
    spec = next(s for s in stack.specs if s.name == "search-2")
    stack.kill_one("search-2")
    query = f"một hình tam giác màu đỏ {uuid.uuid4().hex[:6]}"  # not in the cache
    resp = search_ids(api, cid, query)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["partial"] is True and body["cached"] is False
    assert resp.headers["X-Missing-Shards"] == "1"
    half = {r["image_id"] for r in body["results"]}
    assert 0 < len(half) < len(every) and half < every
    assert system.gateway_up()
    stack.start_one(spec)
    stack.wait_healthy(spec, 60)
    # The partial page was not cached: the same query gives every image once shard 1 is back.
    deadline = time.monotonic() + 60
    while (again := search_ids(api, cid, query).json())["partial"] and time.monotonic() < deadline:
        time.sleep(0.3)
    assert again["partial"] is False
    assert {r["image_id"] for r in again["results"]} == every


def test_encoder_killed_during_ingestion_job_waits_and_completes(system: System) -> None:
    api, cid, stack = system.api, system.cid, system.running.stack
    spec = next(s for s in stack.specs if s.name == "encoder")
    body = accepted_upload(api, cid, [i.path for i in system.images[48:112]])
    job_id = str(body["job_id"])
    accepted = system.accept(body)
    assert len(accepted) == 64
    stack.kill_one("encoder")
    time.sleep(6)  # longer than INDEXER_CLAIM_IDLE_S: the job has been retried without an encoder
    job = api.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] in ("queued", "running"), job
    fresh = search_ids(api, cid, f"câu hỏi mới {uuid.uuid4().hex}")
    assert fresh.status_code == 503 and fresh.json()["error"]["code"] == "encoder_unavailable", fresh.text
    assert system.gateway_up()
    stack.start_one(spec)
    stack.wait_healthy(spec, 120)
    job = wait_job(api, job_id, 180)
    assert job["status"] == "done" and job["failed"] == 0 and job["done"] == len(accepted), job
    wait_searchable(api, cid, set(system.indexed))


def stored_images(system: System, cid: str) -> tuple[set[str], set[str], set[str]]:
    """A collection's image ids with a catalog row, with bytes, and with a thumbnail, read straight
    from the catalog database and the bucket."""
    client = Minio(
        f"127.0.0.1:{system.s3_port}", access_key="minioadmin", secret_key="minioadmin", secure=False
    )
    keys = [o.object_name or "" for o in client.list_objects(BUCKET, recursive=True)]
    blobs = {k.rsplit("/", 1)[-1] for k in keys if k.startswith(f"images/{cid}/")}
    thumbs = {Path(k).stem for k in keys if k.startswith(f"thumbs/{cid}/")}
    engine = create_engine(system.running.catalog_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT image_id FROM images WHERE collection_id = :c"), {"c": cid})
            records = {row[0] for row in rows}
    finally:
        engine.dispose()
    return records, blobs, thumbs


def test_s3_stopped_during_uploads(system: System) -> None:
    api, port = system.api, system.s3_port
    cid = api.post("/api/v1/collections", json={"name": "lưu trữ"}).json()["id"]
    acknowledged: set[str] = set()
    outcomes: list[int] = []
    unexpected: list[str] = []  # kept, not raised: uploads also run on a thread

    def upload_one(img: ShapeImage) -> None:
        resp = upload(api, cid, [img.path])
        outcomes.append(resp.status_code)
        if resp.status_code == 202:
            acknowledged.update(a["image_id"] for a in resp.json()["accepted"])
        # An upload whose bytes were stored just before the stall (its row goes to the catalog
        # database, which stays up) reaches the indexer, which cannot read the collection's
        # deletion marker in time: that is a 503 of the indexer's.
        elif resp.status_code != 503 or resp.json()["error"]["code"] not in (
            "storage_unavailable",
            "storage_error",
            "indexer_unavailable",
        ):
            unexpected.append(f"{resp.status_code} {resp.text}")

    # A hung S3 server (SIGSTOP keeps its data), stopped while uploads stream in: those caught
    # by the stall are refused with 503 once the storage timeouts pass, and no record is left
    # without its bytes, whichever write the stall interrupted.
    pending = iter(system.images[112:])
    stop = threading.Event()

    def stream() -> None:
        for img in pending:
            if stop.is_set():
                return
            upload_one(img)
            time.sleep(0.1)

    uploader = threading.Thread(target=stream, daemon=True)
    uploader.start()
    time.sleep(1.5)
    system.s3.signal(signal.SIGSTOP)
    try:
        time.sleep(10)  # longer than a storage call's three tries of STORAGE_TIMEOUT_S each
        assert system.gateway_up()
    finally:
        system.s3.signal(signal.SIGCONT)
    time.sleep(1.5)
    stop.set()
    uploader.join(60)
    assert not unexpected, unexpected
    assert 503 in outcomes and outcomes[-1] == 202, outcomes
    records, blobs, thumbs = stored_images(system, cid)
    assert records <= blobs and records <= thumbs, "an image record without its bytes"
    assert acknowledged <= records
    wait_searchable(api, cid, acknowledged, 90)

    # A dead S3 server (SIGKILL): refused connections are 503s too, at once.
    system.s3.kill()
    start = time.monotonic()
    upload_one(next(pending))
    assert outcomes[-1] == 503 and time.monotonic() - start < 15, unexpected
    assert system.gateway_up()
    # moto keeps objects in memory, so the restarted server is empty: the operator's bucket is
    # made again (MinIO would have kept it and its objects), then uploads succeed as before.
    system.s3.start()
    make_bucket(port)
    cid = api.post("/api/v1/collections", json={"name": "sau khi khởi động lại"}).json()["id"]
    acknowledged.clear()
    for img in [next(pending) for _ in range(4)]:
        upload_one(img)
    assert outcomes[-4:] == [202] * 4, unexpected
    records, blobs, thumbs = stored_images(system, cid)
    assert records <= blobs and records <= thumbs
    assert acknowledged <= records
    wait_searchable(api, cid, acknowledged, 90)

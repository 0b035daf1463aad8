"""Switching models with no downtime, through the running system: a query loop runs while every
collection is re-embedded by a second checkpoint (fine-tuned for this test from the demo one),
the routing flips, and then flips back.

Real processes throughout: two encoders (one per model), indexer, search replica and gateway,
the S3 server, Redis and a SQLite catalog; the switch is the operator's command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest

from deploy.harness.fullstack import DEMO_CHECKPOINT, REPO, RunningStack, full_stack
from deploy.stack import ProcessSpec, Stack, free_port
from services.common.routing import ROUTING_KEY
from services.common.settings import StorageSettings
from services.common.shards import current_key
from services.common.storage import open_store
from tests.support.index_data import vishapes_pngs
from tests.support.index_stack import wait_for

pytestmark = pytest.mark.slow
QUERIES = ["hình tròn màu đỏ", "hai hình vuông", "ngôi sao màu vàng", "hinh tam giac xanh", "tim"]


@pytest.fixture(scope="module")
def second_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo checkpoint fine-tuned for one short epoch on freshly drawn pictures: a real,
    different model (its weights hash to another version)."""
    from vi_clip_train.vishapes.__main__ import generate

    root = tmp_path_factory.mktemp("switch-train")
    generate(root / "data", {"train": 192, "val": 32}, seed=11, size=64, workers=1)
    out = root / "ckpt"
    cmd = [
        sys.executable, "-m", "vi_clip_train.train", "--model", str(DEMO_CHECKPOINT),
        "--train-data", str(root / "data/train/captions.jsonl"),
        "--val-data", str(root / "data/val/captions.jsonl"),
        "--out", str(out), "--epochs", "1", "--batch-size", "64", "--precision", "fp32",
        "--warmup-steps", "1", "--seed", "1", "--workers", "1",
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    subprocess.run(cmd, check=True, cwd=REPO, env=env, timeout=600, capture_output=True)
    assert (out / "config.json").is_file()
    return out


@dataclass
class System:
    stack: RunningStack
    env: dict[str, str]
    new_encoder: str
    encoders: Stack  # the new model's encoder
    bucket: str
    catalog_url: str


@pytest.fixture(scope="module")
def system(s3_endpoint: str, redis_url: str, second_checkpoint: Path, tmp_path_factory) -> Iterator[System]:
    bucket = f"switch-{uuid.uuid4().hex[:12]}"
    catalog_url = f"sqlite:///{tmp_path_factory.mktemp('switch-catalog')}/catalog.db"
    shared = {
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": bucket,
        "REDIS_URL": redis_url,
        "CATALOG_URL": catalog_url,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    port = free_port()
    new_encoder = f"http://127.0.0.1:{port}"
    spec = ProcessSpec(
        "encoder-new",
        [sys.executable, "-m", "services.encoder"],
        port,
        {**shared, "ENCODER_PORT": str(port), "ENCODER_MODEL": str(second_checkpoint)},
    )
    env = {
        **shared,
        "INDEXER_BATCH_SIZE": "16",
        "INDEXER_ENCODER_ALT_URLS": new_encoder,
        "GATEWAY_ENCODER_ALT_URLS": new_encoder,
        "GATEWAY_MODEL_INFO_REFRESH_S": "0.2",
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
    }
    encoder = Stack([spec], cwd=str(REPO), echo=bool(os.environ.get("STACK_ECHO")))
    with encoder.running(timeout_s=120), full_stack(env) as running:
        yield System(running, env, new_encoder, encoder, bucket, catalog_url)


def switch_model(system: System, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **system.env,
        "INDEXER_ENCODER_URL": system.stack.urls["encoder"],
    }
    cmd = [sys.executable, "-m", "services.indexer.switch_model", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def version_of(url: str) -> str:
    return str(httpx.get(f"{url}/v1/model", timeout=10).json()["version"])


def upload(api: httpx.Client, cid: str, pngs: list[bytes], name: str) -> list[str]:
    files = [("files", (f"{name} {i}.png", data, "image/png")) for i, data in enumerate(pngs)]
    resp = api.post(f"/api/v1/collections/{cid}/images", files=files)
    assert resp.status_code == 202, resp.text
    job = resp.json()["job_id"]
    wait_for(lambda: api.get(f"/api/v1/jobs/{job}").json()["status"] in ("done", "failed"), 120, f"job {job}")
    assert api.get(f"/api/v1/jobs/{job}").json()["status"] == "done"
    return [a["image_id"] for a in resp.json()["accepted"]]


def exact_top(encoder: str, query: str, images: list[str], k: int) -> list[str]:
    """The model's exact answer: its query vector against its vectors of every image, by storage key."""
    from services.common.catalog import image_key

    q = httpx.post(f"{encoder}/v1/embed/text", json={"texts": [query]}, timeout=30).json()["vectors"][0]
    keys = [image_key(cid, iid) for cid, iid in images]
    rows = []
    for i in range(0, len(keys), 64):
        got = httpx.post(f"{encoder}/v1/embed/image", json={"keys": keys[i : i + 64]}, timeout=60).json()
        rows.extend(got["vectors"])
    scores = np.asarray(rows, np.float32) @ np.asarray(q, np.float32)
    order = sorted(range(len(images)), key=lambda i: (-scores[i], images[i][1]))
    return [images[i][1] for i in order[:k]]


@dataclass
class Loop:
    gateway: str
    answers: list[tuple[float, int, str | None]] = field(default_factory=list)  # time, status, model
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.gateway, timeout=30) as api:
            n = 0
            while not self.stop.is_set():
                body = {"query": QUERIES[n % len(QUERIES)], "top_k": 5, "mode": "dense"}
                resp = api.post("/api/v1/search", json=body)
                model = resp.json().get("model_version") if resp.status_code == 200 else None
                self.answers.append((time.monotonic(), resp.status_code, model))
                n += 1


def served_results(api: httpx.Client, query: str, k: int) -> tuple[str, list[str]]:
    got = api.post("/api/v1/search", json={"query": query, "top_k": k, "mode": "dense"}).json()
    return got["model_version"], [r["image_id"] for r in got["results"]]


def test_the_model_switches_and_rolls_back_under_a_query_loop(system: System) -> None:
    gateway, old_encoder = system.stack.gateway, system.stack.urls["encoder"]
    old, new = version_of(old_encoder), version_of(system.new_encoder)
    assert old != new
    store = open_store(StorageSettings(backend="s3", s3_endpoint=system.env["STORAGE_S3_ENDPOINT"],
                                       s3_bucket=system.bucket))  # fmt: skip
    images: list[tuple[str, str]] = []
    with httpx.Client(base_url=gateway, timeout=60) as api:
        cids = [api.post("/api/v1/collections", json={"name": n}).json()["id"] for n in ("Hè", "Thu")]
        for n, cid in enumerate(cids):
            images += [(cid, i) for i in upload(api, cid, vishapes_pngs(40, 30 + n), f"ảnh {n}")]

        loop = Loop(gateway)
        thread = threading.Thread(target=loop.run, daemon=True)
        thread.start()
        try:
            time.sleep(1.0)
            started = switch_model(system, "--to", new, "--no-flip")
            assert started.returncode == 0, started.stderr
            assert json.loads(started.stdout)["embedded"] == len(images)
            rerun = switch_model(system, "--to", new, "--no-flip")  # resumes: nothing left to embed
            assert rerun.returncode == 0 and json.loads(rerun.stdout)["embedded"] == 0, rerun.stderr
            # Uploaded while the switch is built but before the flip: embedded by both models.
            images += [(cids[0], i) for i in upload(api, cids[0], vishapes_pngs(12, 50), "mới")]
            assert store.stat(current_key(f"{cids[0]}@{new}")) is not None
            assert switch_model(system, "--flip").returncode == 0
            flipped = time.monotonic()
            wait_for(lambda: served_results(api, QUERIES[0], 5)[0] == new, 30, "the new model serving")
            time.sleep(1.0)
        finally:
            loop.stop.set()
            thread.join(30)

        statuses = {status for _, status, _ in loop.answers}
        assert statuses == {200}, f"failed queries during the switch: {statuses}"
        models = [model for _, _, model in loop.answers]
        assert set(models) == {old, new} and len(models) > 20
        first_new = models.index(new)
        assert all(m == new for m in models[first_new:]), "a response went back to the old model"
        late = [t - flipped for t, _, m in loop.answers if m == old and t > flipped + 3.0]
        assert not late, f"the old model answered {late} s after the flip"

        for query in QUERIES[:3]:
            model, got = served_results(api, query, 10)
            assert model == new
            assert got == exact_top(system.new_encoder, query, images, 10), query

        status = api.get("/api/v1/model-switch").json()
        assert (status["serving"], status["previous"], status["target"]) == (new, old, None), status
        assert set(status["models"]) == {old, new}
        nothing = api.post("/api/v1/model-switch", json={"action": "flip"})
        assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "switch_refused"
        back = api.post("/api/v1/model-switch", json={"action": "rollback"})
        assert back.status_code == 200 and back.json()["serving"] == old, back.text
        wait_for(lambda: served_results(api, QUERIES[0], 5)[0] == old, 30, "the old model serving again")
        for query in QUERIES[:3]:
            model, got = served_results(api, query, 10)
            assert model == old
            assert got == exact_top(old_encoder, query, images, 10), query

        # The rolled-back-from model is removed: its indexes and vectors go; search goes on.
        collected = api.post("/api/v1/model-switch", json={"action": "collect"})
        assert collected.status_code == 200 and collected.json()["previous"] is None, collected.text
        assert store.stat(current_key(f"{cids[0]}@{new}")) is None
        assert not store.list_keys(f"vectors/{cids[0]}/{new}/")
        assert store.stat(ROUTING_KEY) is not None
        model, got = served_results(api, QUERIES[1], 10)
        assert model == old and got == exact_top(old_encoder, QUERIES[1], images, 10)
        refused = switch_model(system, "--rollback")
        assert refused.returncode == 2 and "no previous model" in refused.stderr

        # Again through the API alone: built in the indexer's background, flipped when complete.
        again = api.post("/api/v1/model-switch", json={"action": "start", "to": new, "flip": True})
        assert again.status_code == 200 and again.json()["target"] == new, again.text
        wait_for(lambda: api.get("/api/v1/model-switch").json()["serving"] == new, 120, "the API's flip")
        status = api.get("/api/v1/model-switch").json()
        assert status["building"] is False and status["error"] is None and status["embedded"] == len(images)
        wait_for(lambda: served_results(api, QUERIES[2], 5)[0] == new, 30, "the new model serving")
        model, got = served_results(api, QUERIES[2], 10)
        assert got == exact_top(system.new_encoder, QUERIES[2], images, 10)

        # Rolled back, the new model's encoder can go: search never waits for it.
        assert api.post("/api/v1/model-switch", json={"action": "rollback"}).status_code == 200
        system.encoders.stop_one("encoder-new")
        wait_for(lambda: served_results(api, QUERIES[0], 5)[0] == old, 30, "the old model serving again")
        model, got = served_results(api, QUERIES[1], 10)
        assert model == old and got == exact_top(old_encoder, QUERIES[1], images, 10)
        assert api.get("/api/v1/model-switch").json()["models"] == [old]
        gone = api.post("/api/v1/model-switch", json={"action": "rollback"})
        assert gone.status_code == 409 and "No encoder serves model" in gone.json()["error"]["message"]

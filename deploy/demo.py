"""`make demo`: Tìm Ảnh on a laptop, over ViShapes-vi images, with one command.

It generates the demo images, makes sure the trained demo checkpoint exists (training it
when missing), starts every service with embedded defaults (a local storage folder, a SQLite
catalog, an in-process cache unless `REDIS_URL` is set), creates a demo collection, indexes the images
with a progress bar, prints the UI's address, and stops every service on Ctrl-C or SIGTERM.

Once the images exist, the main thread starts the services and then only waits for a stop
signal (read from a pipe, see `deploy.lifetime`), so a signal at any moment, twice or during
start-up, stops every service at once; waiting for readiness and seeding the collection run
in a thread of their own.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

from deploy.lifetime import Stopped, StopSignals
from deploy.stack import Ports, Stack, free_port, service_specs

REPO = Path(__file__).resolve().parents[1]
CHECKPOINT = REPO / "checkpoints" / "vi-tiny-vishapes"
COLLECTION = "ViShapes-vi (demo)"
UPLOAD_CHUNK = 100


def ensure_checkpoint() -> None:
    if (CHECKPOINT / "config.json").is_file():
        return
    print(
        "The demo checkpoint is missing: training it (make train-demo, about 30 minutes on 2 CPU cores)…",
        flush=True,
    )
    subprocess.run(["make", "-C", str(REPO), "train-demo"], check=True)


def ensure_images(folder: Path, count: int, size: int) -> list[Path]:
    images = sorted((folder / "test" / "images").glob("*.png"))
    if len(images) < count:
        from vi_clip_train.vishapes.__main__ import generate

        print(f"Generating {count} ViShapes-vi images in {folder}…", flush=True)
        generate(folder, {"test": count}, seed=2024, size=size, workers=2)
        images = sorted((folder / "test" / "images").glob("*.png"))
    return images[:count]


def _bar(label: str, done: int, total: int, final: bool = False) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stdout.write(f"\r{label:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stdout.write("\n" if final else "")
    sys.stdout.flush()


def _zip(paths: list[Path]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for path in paths:
            zf.write(path, path.name)
    return out.getvalue()


def seed_collection(api: httpx.Client, images: list[Path]) -> str:
    """Create the demo collection (once) and index the images, showing progress."""
    existing = [c for c in api.get("/api/v1/collections").json()["items"] if c["name"] == COLLECTION]
    if existing and existing[0]["image_count"] >= len(images):
        return str(existing[0]["id"])
    collection_id = (
        existing[0]["id"]
        if existing
        else api.post("/api/v1/collections", json={"name": COLLECTION}).json()["id"]
    )
    jobs: list[str] = []
    for start in range(0, len(images), UPLOAD_CHUNK):
        chunk = images[start : start + UPLOAD_CHUNK]
        resp = api.post(
            f"/api/v1/collections/{collection_id}/images",
            files=[("files", ("vishapes.zip", _zip(chunk), "application/zip"))],
        )
        resp.raise_for_status()
        if resp.json()["job_id"]:
            jobs.append(resp.json()["job_id"])
        _bar("upload", start + len(chunk), len(images), final=start + len(chunk) >= len(images))
    pending = set(jobs)
    totals: dict[str, tuple[int, int]] = {}
    while pending:
        for job_id in list(pending):
            job = api.get(f"/api/v1/jobs/{job_id}").json()
            totals[job_id] = (job["done"] + job["failed"], job["total"])
            if job["status"] in ("done", "failed"):
                pending.discard(job_id)
        done, total = sum(d for d, _ in totals.values()), sum(t for _, t in totals.values())
        _bar("indexing", done, max(total, 1), final=not pending)
        if pending:
            time.sleep(0.5)
    return str(collection_id)


class Background:
    """One call in a daemon thread; the waiter is woken when it ends and reads its outcome."""

    def __init__(self, work: Callable[[], None], wake: Callable[[], None]) -> None:
        self.done = False
        self.error: BaseException | None = None
        self._work, self._wake = work, wake
        threading.Thread(target=self._run, name="demo-start-up", daemon=True).start()

    def _run(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # handed to the main thread, which reports it
            self.error = exc
        finally:
            self.done = True
            self._wake()


def prepare(url: str, api_key: str | None, images: list[Path], stop: threading.Event) -> None:
    """Wait for readiness, then index the images: the start-up after the processes."""
    headers = {"X-API-Key": api_key} if api_key else {}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as api:
        deadline = time.monotonic() + 120
        while not _ready(api):
            if time.monotonic() > deadline:
                raise SystemExit("the services did not become ready; run with DEMO_VERBOSE=1 to see why")
            if stop.wait(0.5):
                return
        seed_collection(api, images)


def _ready(api: httpx.Client) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return api.get("/readyz").status_code == 200
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Tìm Ảnh demo locally.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "7860")))
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("DEMO_DATA_DIR", REPO / "data" / "demo"))
    )
    parser.add_argument("--images", type=int, default=int(os.environ.get("DEMO_IMAGES", "600")))
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--api-key", default=os.environ.get("DEMO_API_KEY"), help="require this API key")
    parser.add_argument("--auth", action="store_true", help="require a generated API key")
    args = parser.parse_args(argv)
    with StopSignals() as stop:
        try:
            return run(args, stop)
        except Stopped:
            print("Stopped.", flush=True)
            return 0


def run(args: argparse.Namespace, stop: StopSignals) -> int:
    ensure_checkpoint()
    images = ensure_images(args.data_dir / "vishapes-vi", args.images, args.image_size)
    stop.raise_if_received()
    api_key = args.api_key or (secrets.token_urlsafe(24) if args.auth else None)
    env = {
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(args.data_dir / "storage"),
        "CATALOG_URL": f"sqlite:///{args.data_dir / 'catalog.db'}",  # no database server to install
        "INDEXER_QUEUE_PATH": str(args.data_dir / "indexer-queue.sqlite"),
        "ENCODER_MODEL": str(CHECKPOINT),
        "GATEWAY_FRONTEND_DIR": str(REPO / "frontend" / "dist"),
    }
    if api_key:
        env["GATEWAY_API_KEYS"] = api_key
    ports = Ports(gateway=args.port, encoder=free_port(), indexer=free_port(), search=free_port())
    stack = Stack(service_specs(ports, env), cwd=str(REPO), echo=bool(os.environ.get("DEMO_VERBOSE")))

    url = f"http://127.0.0.1:{args.port}"
    abandon = threading.Event()  # tells the start-up thread to give up once services are stopped
    try:
        with stack.running(timeout_s=120, stopped=stop.raise_if_received):
            start_up = Background(lambda: prepare(url, api_key, images, abandon), stop.wake)
            while not start_up.done:
                stop.wait()
                stop.raise_if_received()
            if start_up.error is not None:
                raise start_up.error
            print(f"Tìm Ảnh is ready: {url}", flush=True)
            if api_key:
                print(f"API key: {api_key}", flush=True)
            print("Ctrl-C stops every service.", flush=True)
            stop.wait()
    finally:
        abandon.set()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`make demo`'s own start-up path on a clean folder: ready line, a real search, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from deploy.stack import free_port
from tests.support.fullstack import REPO


def test_demo_starts_searches_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DEMO_IMAGES": "80"}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
            "--auth",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    url = key = None
    try:
        deadline = time.monotonic() + 300
        assert proc.stdout is not None
        while time.monotonic() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Tìm Ảnh is ready: "):
                url = line.split(": ", 1)[1].strip()
        assert url == f"http://127.0.0.1:{port}", "".join(lines[-30:])
        key_line = proc.stdout.readline()
        assert key_line.startswith("API key: "), key_line
        key = key_line.split(": ", 1)[1].strip()
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 4

        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as api:
            collections = api.get("/api/v1/collections").json()["items"]
            assert [c["image_count"] for c in collections] == [80]
            found = api.post("/api/v1/search", json={"query": "hai ngôi sao màu vàng", "top_k": 5}).json()
            assert len(found["results"]) == 5 and found["partial"] is False
            assert httpx.get(url + found["results"][0]["thumbnail_url"]).status_code == 200
            assert api.get("/").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.pid for p in alive]

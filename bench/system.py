"""The whole system for end-to-end benchmarks: a private Redis, every service as a process,
local storage, the demo model, and a collection of ViShapes-vi images.

It reuses the test suite's stack and data factories, so benchmarks and tests run the same system.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

from deploy.harness.fullstack import RunningStack, full_stack
from deploy.harness.servers import redis_server


def percentiles(latencies_ms: list[float]) -> tuple[float, float, float]:
    if not latencies_ms:
        return float("nan"), float("nan"), float("nan")
    p50, p95, p99 = np.percentile(latencies_ms, [50, 95, 99])
    return float(p50), float(p95), float(p99)


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


@contextlib.contextmanager
def bench_stack(storage_root: Path, **env: str) -> Iterator[RunningStack]:
    """Services quiet (warning logs), no API key and no rate limit, images in a local folder."""
    with redis_server() as (redis_url, _):
        base = {
            "STORAGE_BACKEND": "local",
            "STORAGE_LOCAL_ROOT": str(storage_root),
            "REDIS_URL": redis_url,
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
            **{f"{s}_LOG_LEVEL": "warning" for s in ("ENCODER", "INDEXER", "SEARCH", "GATEWAY")},
            **env,
        }
        with full_stack(base) as running:
            yield running


@contextlib.contextmanager
def process(argv: list[str], url: str, timeout_s: float = 60) -> Iterator[subprocess.Popen[bytes]]:
    """A helper process (the peer server), waited for on `url`/healthz and stopped after."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv} did not start")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


PY = sys.executable

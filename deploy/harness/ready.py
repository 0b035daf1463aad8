"""Waiting for a service's `/readyz`: the one poll tests and benchmarks use before they send work."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx


class Answer(Protocol):
    status_code: int
    text: str


def wait_ready(target: str | Callable[[str], Answer], timeout_s: float = 120.0, poll_s: float = 0.2) -> None:
    """Poll `/readyz` until it answers 200: `target` is a base URL, or a `get` (an httpx client's or a
    TestClient's) that takes the path. The timeout's error carries the last answer or connection error."""
    get: Callable[[str], Any] = (
        (lambda path: httpx.get(target + path, timeout=5)) if isinstance(target, str) else target
    )
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            resp = get("/readyz")
        except httpx.HTTPError as exc:
            last = repr(exc)
        else:
            if resp.status_code == 200:
                return
            last = f"{resp.status_code} {resp.text}"
        time.sleep(poll_s)
    raise TimeoutError(
        f"{target if isinstance(target, str) else 'the app'} not ready within {timeout_s:g}s: {last}"
    )

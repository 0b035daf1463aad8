"""A bug's 500 answers in the one error shape and leaves the keep-alive connection usable."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from deploy.stack import free_port
from services.common.app import create_service_app


@contextlib.asynccontextmanager
async def _nothing(_: FastAPI) -> AsyncIterator[None]:
    yield


class _BuggyMiddleware:
    """A middleware with a bug on one path, outside every middleware of the skeleton."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/middleware-bug":
            raise TypeError("comparing strings with non-ASCII characters is not supported")
        await self.app(scope, receive, send)


def _app() -> FastAPI:
    """The shared service skeleton with a route and a middleware that have a bug, as any might."""
    app = create_service_app(service="buggy", title="buggy", version="0", lifespan=_nothing)

    @app.get("/route-bug")
    async def bug() -> dict[str, int]:
        return {"n": int("²")}  # ValueError: '²'.isdigit() is True, int() refuses it

    app.add_middleware(_BuggyMiddleware)
    return app


@pytest.fixture
def served() -> Iterator[int]:
    """The app under a real uvicorn server in a thread, on a free port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(10)


@pytest.mark.parametrize("path", ["/route-bug", "/middleware-bug"])
def test_a_bug_answers_500_in_the_error_shape_and_the_connection_serves_the_next_request(
    served: int, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    with caplog.at_level(logging.ERROR):
        conn.request("GET", path)
        first = conn.getresponse()
        body = json.loads(first.read())
    assert first.status == 500 and body["error"]["code"] == "internal_error"
    assert set(body["error"]["details"]) == {"ref"}
    assert first.getheader("x-content-type-options") == "nosniff"
    sock = conn.sock
    conn.request("GET", "/healthz")  # the same connection: the server kept it open
    second = conn.getresponse()
    assert second.status == 200 and json.loads(second.read())["status"] == "ok"
    assert conn.sock is sock
    conn.close()
    traces = [r for r in caplog.records if r.exc_info]
    assert len(traces) == 1 and body["error"]["details"]["ref"] in traces[0].getMessage()  # logged once

"""The shared app skeleton: one error shape, bounded readiness, metrics, safe headers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from services.common.app import create_service_app
from services.common.errors import ApiError
from services.common.health import Check


class Body(BaseModel):
    query: str = Field(min_length=1, max_length=10)


def _app(checks: list[Check]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.readiness_checks += checks
        yield

    app = create_service_app(service="t", title="t", version="0", lifespan=lifespan, readiness_timeout_s=0.3)

    @app.post("/echo")
    async def echo(body: Body) -> Body:
        return body

    @app.get("/teapot")
    async def teapot() -> None:
        raise ApiError(409, "already_exists", "Thư mục đã tồn tại.", {"name": "x"})

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("secret internals")

    return app


async def _ok() -> str | None:
    return None


async def _hang() -> str | None:
    await asyncio.sleep(30)
    return None


async def _down() -> str | None:
    raise ConnectionRefusedError("connection refused")


def test_error_shape_for_validation_api_and_unknown_route() -> None:
    with TestClient(_app([]), raise_server_exceptions=False) as client:
        r = client.post("/echo", json={"query": ""})
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "invalid_request"
        assert r.json()["error"]["details"][0]["loc"] == ["body", "query"]
        r = client.get("/teapot")
        assert r.status_code == 409
        assert r.json() == {
            "error": {"code": "already_exists", "message": "Thư mục đã tồn tại.", "details": {"name": "x"}}
        }
        r = client.get("/nowhere")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = client.post("/echo", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422


def test_unhandled_error_is_500_without_trace() -> None:
    with TestClient(_app([]), raise_server_exceptions=False) as client:
        r = client.get("/bug")
        assert r.status_code == 500
        assert r.json()["error"]["code"] == "internal_error"
        assert "secret" not in r.text and "Traceback" not in r.text


def test_readyz_reports_each_check_and_never_hangs() -> None:
    checks = [Check("a", _ok), Check("slow", _hang), Check("db", _down), Check("opt", _down, required=False)]
    with TestClient(_app(checks)) as client:
        start = time.monotonic()
        r = client.get("/readyz")
        assert time.monotonic() - start < 2
    assert r.status_code == 503
    by_name = {c["name"]: c for c in r.json()["checks"]}
    assert by_name["a"]["ok"] and not by_name["slow"]["ok"]
    assert "no answer within" in by_name["slow"]["reason"]
    assert "refused" in by_name["db"]["reason"]


def test_readyz_ignores_optional_failures() -> None:
    with TestClient(_app([Check("a", _ok), Check("opt", _down, required=False)])) as client:
        r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"


def test_healthz_metrics_and_nosniff() -> None:
    with TestClient(_app([])) as client:
        r = client.get("/healthz")
        assert r.json() == {"status": "ok", "service": "t"}
        assert r.headers["x-content-type-options"] == "nosniff"
        client.post("/echo", json={"query": "abc"})
        text = client.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/echo",service="t",status="200"} 1.0' in text
    assert "http_request_duration_seconds_bucket" in text

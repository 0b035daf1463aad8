"""Liveness and readiness: `/healthz` says the process is up, `/readyz` that its dependencies answer.

A readiness check is an async callable returning `None` when healthy or a reason string.
Every check runs concurrently under a timeout, so `/readyz` answers quickly even when a
dependency hangs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.common.schemas.health import CheckResult, Health, Readiness

CheckFn = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True)
class Check:
    name: str
    fn: CheckFn
    required: bool = True  # an optional check is reported but never fails readiness


async def _run(check: Check, timeout_s: float) -> CheckResult:
    try:
        reason = await asyncio.wait_for(check.fn(), timeout_s)
    except TimeoutError:
        reason = f"no answer within {timeout_s:g}s"
    except Exception as exc:  # a failing dependency is a readiness answer, not a crash
        reason = f"{type(exc).__name__}: {exc}"[:300]
    return CheckResult(name=check.name, ok=reason is None, required=check.required, reason=reason)


async def run_checks(checks: list[Check], timeout_s: float) -> Readiness:
    results = await asyncio.gather(*(_run(c, timeout_s) for c in checks))
    ready = all(r.ok for r in results if r.required)
    return Readiness(status="ready" if ready else "unavailable", checks=list(results))


def health_router(service: str) -> APIRouter:
    """Routes `/healthz` and `/readyz`; checks come from `app.state.readiness_checks`."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        return Health(status="ok", service=service)

    @router.get(
        "/readyz",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "A required dependency does not answer"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        checks: list[Check] = getattr(request.app.state, "readiness_checks", [])
        timeout_s: float = getattr(request.app.state, "readiness_timeout_s", 2.0)
        readiness = await run_checks(checks, timeout_s)
        status = 200 if readiness.status == "ready" else 503
        return JSONResponse(readiness.model_dump(), status_code=status)

    return router

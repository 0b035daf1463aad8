"""Bodies of `/healthz` and `/readyz`, the same for every service."""

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"]
    service: str


class CheckResult(BaseModel):
    name: str
    ok: bool
    required: bool = True
    reason: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: list[CheckResult]

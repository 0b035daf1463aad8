"""OpenAPI documentation of the error responses each route can return."""

from __future__ import annotations

from typing import Any

from services.common.errors import ErrorBody

_DESCRIPTIONS = {
    400: "The request cannot be processed",
    401: "Missing or invalid API key",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Rate limit exceeded (see Retry-After)",
    503: "A backing service is unavailable",
}

# Every authenticated route can answer these (400: a body that cannot be parsed at all).
COMMON = (400, 401, 413, 422, 429)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the common errors plus `codes`, all with the one error body."""
    return {
        code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in sorted({*COMMON, *codes})
    }

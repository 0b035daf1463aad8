"""Authentication and rate limiting of every `/api/v1` request, before anything else runs.

An ASGI middleware outside routing, the body limit and body parsing: a request without a
valid key is answered 401 from its headers alone, whatever its path (known or not), body
(malformed, oversized) or collection id, so no answer tells an anonymous client whether a
collection exists. The caller it finds is handed to routes in the request state
(`gateway.deps.CallerDep`). Image bytes also accept a signed URL in place of a key.
"""

from __future__ import annotations

import re

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.access import Caller, Role
from gateway.auth import Authenticator
from services.common.errors import ApiError, error_response

API_PREFIX = "/api/v1"
CALLER_STATE = "caller"
_SIGNED_PATH = re.compile(rf"^{API_PREFIX}/images/[A-Za-z0-9_-]{{1,64}}/(content|thumbnail)$")


class ApiAuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        resources = scope["app"].state.resources
        try:
            caller = self._signed(conn, resources.auth)
            if caller is None:
                caller = resources.auth.caller(conn)
                await resources.limiter.check(caller.id)
        except ApiError as exc:
            headers = dict(exc.headers or {})
            if "content-length" in conn.headers or "transfer-encoding" in conn.headers:
                headers["Connection"] = "close"  # the body was never read
            response = error_response(exc.status, exc.code, exc.message, exc.details, headers)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[CALLER_STATE] = caller
        await self.app(scope, receive, send)

    @staticmethod
    def _signed(conn: HTTPConnection, auth: Authenticator) -> Caller | None:
        """A read-only caller for exactly this path when the request carries a valid signature."""
        if conn.scope["method"] not in ("GET", "HEAD") or not _SIGNED_PATH.match(conn.url.path):
            return None
        exp, sig = conn.query_params.get("exp"), conn.query_params.get("sig")
        if exp is None or sig is None or not auth.signature_ok(conn.url.path, exp, sig):
            return None
        return Caller("signed", Role.READ, signed=True)

"""A typed async HTTP client base: one connection pool per peer service, a timeout on every call."""

from __future__ import annotations

import json
from typing import Any

import httpx

from services.common.clients.keepalive import KeepAlivePool, Unsupported
from services.common.schemas.health import Health, Readiness


class ServiceUnavailable(Exception):
    """The peer service did not answer, timed out or answered 5xx."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


class ServiceError(Exception):
    """The peer answered with a 4xx; `body` holds its error object."""

    def __init__(self, service: str, status: int, body: Any) -> None:
        super().__init__(f"{service} answered {status}: {body}")
        self.service = service
        self.status = status
        self.body = body


class ServiceClient:
    """Base of the clients of each service; `service` names the peer in errors."""

    service = "service"

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 5.0,
        *,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # The hot, idempotent POSTs (`fast=True`: a query's embedding, a replica's search) go over
        # lean keep-alive connections (sent twice at worst); everything else through httpx.
        plain = transport is None and base_url.startswith("http://")
        self._fast = KeepAlivePool(self.base_url, timeout_s) if plain else None
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
        )

    async def request(self, method: str, path: str, *, fast: bool = False, **kwargs: Any) -> httpx.Response:
        """Send one request; transport failures and 5xx become ServiceUnavailable, 4xx ServiceError.
        `fast`: an idempotent POST, which may go over a kept-alive connection (and be sent again)."""
        resp = await self._send_fast(method, path, kwargs) if fast and self._fast is not None else None
        if resp is None:
            try:
                resp = await self._http.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                raise ServiceUnavailable(self.service, f"timed out on {method} {path}") from exc
            except httpx.TransportError as exc:
                raise ServiceUnavailable(self.service, f"unreachable ({type(exc).__name__})") from exc
        return self._checked(method, path, resp)

    async def _send_fast(self, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Response | None:
        """A POST of bytes or JSON over a kept-alive connection; None when it is not one of those."""
        if method != "POST" or self._fast is None or not set(kwargs) <= {"content", "json", "headers"}:
            return None
        headers = dict(kwargs.get("headers") or {})
        if "json" in kwargs:
            body = json.dumps(kwargs["json"], ensure_ascii=False, separators=(",", ":")).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            content = kwargs.get("content", b"")
            if not isinstance(content, bytes):
                return None
            body = content
        try:
            return await self._fast.post(path, body, headers)
        except Unsupported:
            return None
        except TimeoutError as exc:
            raise ServiceUnavailable(self.service, f"timed out on {method} {path}") from exc
        except OSError as exc:
            raise ServiceUnavailable(self.service, f"unreachable ({type(exc).__name__})") from exc

    def _checked(self, method: str, path: str, resp: httpx.Response) -> httpx.Response:
        if resp.status_code >= 500:
            raise ServiceUnavailable(self.service, f"{method} {path} answered {resp.status_code}")
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = resp.text[:500]
            raise ServiceError(self.service, resp.status_code, body)
        return resp

    async def healthz(self) -> Health:
        return Health.model_validate((await self.request("GET", "/healthz")).json())

    async def readyz(self) -> Readiness:
        """The peer's readiness; a 503 is a normal answer here, not an error."""
        try:
            resp = await self._http.get("/readyz")
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(self.service, f"unreachable ({type(exc).__name__})") from exc
        return Readiness.model_validate(resp.json())

    async def aclose(self) -> None:
        if self._fast is not None:
            await self._fast.aclose()
        await self._http.aclose()

"""API keys and per-key rate limits, and signed image URLs a browser can load without headers."""

from __future__ import annotations

import hashlib
import hmac
import time

from fastapi import Request
from pydantic import SecretStr

from gateway.resilience import GuardedCache
from services.common.errors import ApiError


class Authenticator:
    def __init__(self, keys: list[SecretStr], signing_key: SecretStr | None, rate_per_minute: int) -> None:
        self._keys = {k.get_secret_value() for k in keys if k.get_secret_value()}
        material = signing_key.get_secret_value() if signing_key else "\n".join(sorted(self._keys))
        self._signing = hashlib.sha256(b"timanh-url-signing\n" + material.encode()).digest()
        self.rate_per_minute = rate_per_minute

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def principal(self, request: Request) -> str:
        """The caller's identity: its key's hash, or its address when auth is off. Raises 401."""
        if not self.enabled:
            return "ip:" + (request.client.host if request.client else "unknown")
        key = request.headers.get("x-api-key")
        if key is None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            key = token.strip() if scheme.lower() == "bearer" else None
        if not key:
            raise ApiError(401, "missing_api_key", "Send an API key in X-API-Key or Authorization: Bearer.")
        if not any(hmac.compare_digest(key, k) for k in self._keys):
            raise ApiError(401, "invalid_api_key", "The API key is not valid.")
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]

    async def check_rate(self, principal: str, cache: GuardedCache) -> None:
        """Fixed one-minute windows in the shared cache; a cache outage lets requests through."""
        if self.rate_per_minute <= 0:
            return
        window = int(time.time() // 60)
        count = await cache.incr(f"rl:{principal}:{window}", ttl_s=61)
        if count is not None and count > self.rate_per_minute:
            retry = 60 - int(time.time()) % 60
            raise ApiError(
                429,
                "rate_limited",
                f"More than {self.rate_per_minute} requests this minute; try again in {retry} s.",
                headers={"Retry-After": str(retry)},
            )

    def sign(self, path: str, ttl_s: int = 3600) -> str:
        """`path?exp=...&sig=...`; expiry rounded to the hour so URLs stay cacheable."""
        if not self.enabled:
            return path
        exp = (int(time.time()) // 3600 + 1) * 3600 + ttl_s
        sig = hmac.new(self._signing, f"{path}\n{exp}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{path}?exp={exp}&sig={sig}"

    def signature_ok(self, path: str, exp: str | None, sig: str | None) -> bool:
        if not exp or not sig or not exp.isdigit() or int(exp) < time.time():
            return False
        want = hmac.new(self._signing, f"{path}\n{exp}".encode(), hashlib.sha256).hexdigest()[:32]
        return hmac.compare_digest(want, sig)

"""API keys with roles, and signed image URLs a browser can load without headers."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr
from starlette.requests import HTTPConnection

from gateway.access import Caller, Role, key_id, parse_api_keys
from services.common.errors import ApiError

URL_LIFETIME_S = 3600  # what a signed URL promises from the moment it is handed out


class Authenticator:
    def __init__(self, keys: list[SecretStr], signing_key: SecretStr | None) -> None:
        roles = parse_api_keys([k.get_secret_value() for k in keys if k.get_secret_value()])
        self._keys = [(key.encode(), role, key_id(key)) for key, role in roles.items()]
        # Without a signing key of its own (refused outside development, see GatewaySettings)
        # URLs are signed with material derived from the keys.
        material = signing_key.get_secret_value() if signing_key else "\n".join(sorted(roles))
        self._signing = hashlib.sha256(b"timanh-url-signing\n" + material.encode()).digest()

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def caller(self, request: HTTPConnection) -> Caller:
        """The caller by its key (any role), or an admin by its address when auth is off. Raises 401."""
        if not self.enabled:
            return Caller("ip:" + (request.client.host if request.client else "unknown"), Role.ADMIN)
        key = request.headers.get("x-api-key")
        if key is None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            key = token.strip() if scheme.lower() == "bearer" else None
        if not key:
            raise ApiError(401, "missing_api_key", "Send an API key in X-API-Key or Authorization: Bearer.")
        # Bytes, so a key with any character is compared (str compare_digest refuses non-ASCII);
        # every configured key is compared, so timing does not tell which one came close.
        sent = key.encode("utf-8", "surrogateescape")
        found: Caller | None = None
        for candidate, role, ident in self._keys:
            if hmac.compare_digest(sent, candidate):
                found = Caller(ident, role)
        if found is None:
            raise ApiError(401, "invalid_api_key", "The API key is not valid.")
        return found

    def sign(self, path: str, ttl_s: int = 3600) -> str:
        """`path?exp=...&sig=...`; expiry rounded to the hour so URLs stay cacheable."""
        if not self.enabled:
            return path
        exp = (int(time.time()) // 3600 + 1) * 3600 + ttl_s
        return f"{path}?exp={exp}&sig={self._signature(path, str(exp))}"

    def signature_ok(self, path: str, exp: str | None, sig: str | None) -> bool:
        if (
            not exp
            or not sig
            or not (len(exp) <= 20 and exp.isascii() and exp.isdigit())
            or int(exp) < time.time()
        ):
            return False
        want = self._signature(path, exp).encode()
        return hmac.compare_digest(want, sig.encode("utf-8", "surrogateescape"))

    def _signature(self, path: str, exp: str) -> str:
        return hmac.new(self._signing, f"{path}\n{exp}".encode(), hashlib.sha256).hexdigest()[:32]


def url_expiry(url: str) -> float:
    """The `exp` a signed URL carries; an unsigned one (auth off) never expires."""
    query = parse_qs(urlsplit(url).query)
    return float(query["exp"][0]) if "exp" in query else float("inf")

"""Gateway pieces that need no peer: query normalisation, keys and signed URLs, resilience."""

from __future__ import annotations

import asyncio
import unicodedata

import pytest
from pydantic import SecretStr
from starlette.requests import Request

from gateway.auth import Authenticator
from gateway.query import normalize_query
from gateway.resilience import GuardedCache, SingleFlight
from services.common.cache import Cache, CacheUnavailable, MemoryCache
from services.common.errors import ApiError


def test_query_nfc_and_whitespace() -> None:
    nfd = unicodedata.normalize("NFD", "hai ngôi sao  màu vàng ")
    assert nfd != "hai ngôi sao màu vàng"
    assert normalize_query(nfd) == "hai ngôi sao màu vàng"
    assert normalize_query("\tmột\ncậu bé ") == "một cậu bé"


@pytest.mark.parametrize(
    ("text", "code"), [("   ", "empty_query"), ("a\x00b", "invalid_query"), ("\x07", "invalid_query")]
)
def test_bad_queries(text: str, code: str) -> None:
    with pytest.raises(ApiError) as err:
        normalize_query(text)
    assert (err.value.status, err.value.code) == (422, code)


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request(
        {"type": "http", "headers": raw, "client": ("10.0.0.1", 1234), "method": "GET", "path": "/"}
    )


def test_api_keys_from_either_header() -> None:
    auth = Authenticator([SecretStr("k-1"), SecretStr("k-2")], None, 10)
    a = auth.principal(_request({"X-API-Key": "k-1"}))
    b = auth.principal(_request({"Authorization": "Bearer k-1"}))
    assert a == b and a.startswith("key:") and "k-1" not in a
    for headers, code in (({}, "missing_api_key"), ({"X-API-Key": "nope"}, "invalid_api_key")):
        with pytest.raises(ApiError) as err:
            auth.principal(_request(headers))
        assert (err.value.status, err.value.code) == (401, code)


def test_no_keys_means_open_and_unsigned() -> None:
    auth = Authenticator([], None, 10)
    assert auth.principal(_request({})) == "ip:10.0.0.1"
    assert auth.sign("/api/v1/images/x/content") == "/api/v1/images/x/content"


def test_signed_urls_verify_and_expire() -> None:
    auth = Authenticator([SecretStr("k")], None, 10)
    url = auth.sign("/api/v1/images/abc/thumbnail")
    path, _, query = url.partition("?")
    params = dict(p.split("=") for p in query.split("&"))
    assert auth.signature_ok(path, params["exp"], params["sig"])
    assert not auth.signature_ok("/api/v1/images/other/thumbnail", params["exp"], params["sig"])
    assert not auth.signature_ok(path, "1", params["sig"])
    assert not auth.signature_ok(path, None, None)
    other = Authenticator([SecretStr("different")], None, 10)
    assert not other.signature_ok(path, params["exp"], params["sig"])


async def test_rate_limit_answers_429_with_retry_after() -> None:
    auth = Authenticator([SecretStr("k")], None, 3)
    cache = GuardedCache(MemoryCache())
    for _ in range(3):
        await auth.check_rate("key:x", cache)
    with pytest.raises(ApiError) as err:
        await auth.check_rate("key:x", cache)
    assert err.value.status == 429 and err.value.headers and 0 < int(err.value.headers["Retry-After"]) <= 60


async def test_single_flight_shares_one_execution() -> None:
    flight: SingleFlight[int] = SingleFlight()
    calls = 0

    async def work() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return 42

    results = await asyncio.gather(*(flight.run("k", work) for _ in range(100)))
    assert results == [42] * 100 and calls == 1
    assert await flight.run("k", work) == 42 and calls == 2


async def test_single_flight_propagates_errors_to_every_waiter() -> None:
    flight: SingleFlight[int] = SingleFlight()

    async def boom() -> int:
        await asyncio.sleep(0.01)
        raise RuntimeError("down")

    results = await asyncio.gather(*(flight.run("k", boom) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


class _DeadCache(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def get(self, key: str) -> bytes | None:
        self.calls += 1
        raise CacheUnavailable("down")


async def test_guarded_cache_opens_after_failures() -> None:
    dead = _DeadCache()
    guarded = GuardedCache(dead, failure_threshold=3, open_for_s=60)
    for _ in range(10):
        assert await guarded.get("k") is None
    assert dead.calls == 3 and guarded.is_open


async def test_guarded_cache_passes_through() -> None:
    cache: Cache = MemoryCache()
    guarded = GuardedCache(cache)
    await guarded.set("k", b"v", 10)
    assert await guarded.get("k") == b"v"

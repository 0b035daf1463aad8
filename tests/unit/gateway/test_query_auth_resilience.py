"""Gateway pieces that need no peer: query normalisation, keys and signed URLs, resilience."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from starlette.requests import Request

from gateway.access import Caller, Permission, Role, parse_api_keys
from gateway.auth import Authenticator
from gateway.query import normalize_query
from gateway.ratelimit import LocalWindows, RateLimiter
from gateway.resilience import GuardedCache, SingleFlight
from services.common.cache import Cache, CacheUnavailable, MemoryCache
from services.common.catalog import CollectionRecord
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


def _request(headers: Mapping[str, str | bytes]) -> Request:
    raw = [(k.lower().encode(), v if isinstance(v, bytes) else v.encode()) for k, v in headers.items()]
    return Request(
        {"type": "http", "headers": raw, "client": ("10.0.0.1", 1234), "method": "GET", "path": "/"}
    )


def test_api_keys_from_either_header() -> None:
    auth = Authenticator([SecretStr("k-1"), SecretStr("k-2")], None)
    a = auth.caller(_request({"X-API-Key": "k-1"}))
    b = auth.caller(_request({"Authorization": "Bearer k-1"}))
    assert a == b and a.id.startswith("key:") and "k-1" not in a.id
    assert a.role is Role.ADMIN  # a plain key keeps doing everything it did before roles
    for headers, code in (({}, "missing_api_key"), ({"X-API-Key": "nope"}, "invalid_api_key")):
        with pytest.raises(ApiError) as err:
            auth.caller(_request(headers))
        assert (err.value.status, err.value.code) == (401, code)


def test_keys_carry_their_roles() -> None:
    auth = Authenticator([SecretStr("read:r-key"), SecretStr("write:w-key"), SecretStr("admin:a-key")], None)
    roles = {key: auth.caller(_request({"X-API-Key": key})).role for key in ("r-key", "w-key", "a-key")}
    assert roles == {"r-key": Role.READ, "w-key": Role.WRITE, "a-key": Role.ADMIN}
    with pytest.raises(ApiError):
        auth.caller(_request({"X-API-Key": "read:r-key"}))  # the role prefix is not part of the key
    assert parse_api_keys(["other:x"]) == {"other:x": Role.ADMIN}  # an unknown prefix is part of a plain key
    for bad in (["read:"], ["k", "write:k"]):
        with pytest.raises(ValueError):
            parse_api_keys(bad)


def test_role_permissions_and_collection_visibility() -> None:
    now = datetime.now(UTC)
    reader, writer, admin = (
        Caller("key:r", Role.READ),
        Caller("key:w", Role.WRITE),
        Caller("key:a", Role.ADMIN),
    )
    mine = CollectionRecord(id="c1", name="mine", created_at=now, owner="key:w")
    other = CollectionRecord(id="c2", name="other", created_at=now, owner="key:x")
    shared = CollectionRecord(id="c3", name="shared", created_at=now)
    assert [writer.sees(c) for c in (mine, other, shared)] == [True, False, True]
    assert [writer.owns(c) for c in (mine, other, shared)] == [True, False, False]
    assert [reader.sees(c) for c in (mine, other, shared)] == [False, False, True]
    assert all(admin.sees(c) and admin.owns(c) for c in (mine, other, shared))
    writer.require(Permission.DELETE)
    for caller, permission in (
        (reader, Permission.DELETE),
        (reader, Permission.UPLOAD),
        (reader, Permission.EDIT),
        (writer, Permission.IMPORT),
    ):
        with pytest.raises(ApiError) as err:
            caller.require(permission)
        assert (err.value.status, err.value.code) == (403, "forbidden")


def test_odd_key_bytes_and_signature_digits_are_refused_not_raised() -> None:
    auth = Authenticator([SecretStr("k")], None)
    for key in ("khóa-bí-mật", "ключ", b"k\xff\xfe"):  # header bytes as a client sends them
        with pytest.raises(ApiError) as err:
            auth.caller(_request({"X-API-Key": key}))
        assert err.value.status == 401
    path = "/api/v1/images/abc/content"
    for exp in ("²³⁴⁵⁶⁷⁸⁹¹⁰", "١٢٣٤٥٦٧٨٩٠", "9" * 5000):
        assert not auth.signature_ok(path, exp, "0" * 32)
    assert not auth.signature_ok(path, "9999999999", "ữ" * 32)


def test_no_keys_means_open_and_unsigned() -> None:
    auth = Authenticator([], None)
    assert auth.caller(_request({})) == Caller("ip:10.0.0.1", Role.ADMIN)
    assert auth.sign("/api/v1/images/x/content") == "/api/v1/images/x/content"


def test_signed_urls_verify_and_expire() -> None:
    auth = Authenticator([SecretStr("k")], None)
    url = auth.sign("/api/v1/images/abc/thumbnail")
    path, _, query = url.partition("?")
    params = dict(p.split("=") for p in query.split("&"))
    assert auth.signature_ok(path, params["exp"], params["sig"])
    assert not auth.signature_ok("/api/v1/images/other/thumbnail", params["exp"], params["sig"])
    assert not auth.signature_ok(path, "1", params["sig"])
    assert not auth.signature_ok(path, None, None)
    other = Authenticator([SecretStr("different")], None)
    assert not other.signature_ok(path, params["exp"], params["sig"])
    signed = Authenticator([SecretStr("k")], SecretStr("a signing key of its own"))
    assert not signed.signature_ok(path, params["exp"], params["sig"])  # not derived from the keys


async def test_rate_limit_answers_429_with_retry_after() -> None:
    limiter = RateLimiter(3, GuardedCache(MemoryCache()))
    for _ in range(3):
        await limiter.check("key:x")
    with pytest.raises(ApiError) as err:
        await limiter.check("key:x")
    assert err.value.status == 429 and err.value.headers and 0 < int(err.value.headers["Retry-After"]) <= 60


def test_local_windows_stay_bounded() -> None:
    windows = LocalWindows(max_keys=3)
    for i in range(100):
        windows.incr(f"rl:ip:{i}:1")
    assert windows.incr("rl:ip:99:1") == 2 and len(windows._counts) == 3


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


class _SlowCache(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def set(self, key: str, value: bytes, ttl_s: int) -> None:
        await self.release.wait()
        await super().set(key, value, ttl_s)


async def test_writes_kept_for_later_do_not_hold_the_caller_and_are_drained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slow = _SlowCache()
    guarded = GuardedCache(slow)
    guarded.set_soon("a", b"1", 10)  # returns while the write waits
    guarded.set_soon("b", b"2", 10)
    assert await slow.get("a") is None
    monkeypatch.setattr("gateway.resilience.MAX_PENDING_WRITES", 2)
    guarded.set_soon("c", b"3", 10)  # past the bound: dropped, as a failed write would be
    slow.release.set()
    await guarded.drain()
    assert [await slow.get(k) for k in "abc"] == [b"1", b"2", None]
    dead = GuardedCache(_DeadCache(), failure_threshold=1, open_for_s=60)
    await dead.get("k")
    dead.set_soon("k", b"v", 10)  # the breaker is open: nothing is started
    await dead.drain()

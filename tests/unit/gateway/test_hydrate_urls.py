"""Signed URLs handed out with a page always have their full lifetime left, cached list or not."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from gateway import auth as auth_module
from gateway import hydrate
from gateway.auth import URL_LIFETIME_S, Authenticator
from gateway.deps import Resources
from gateway.hydrate import Hydrator
from gateway.settings import GatewaySettings
from services.common.schemas.public import SearchResult

HOUR = 3600


def _exp(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["exp"][0])


def test_urls_are_reused_only_while_their_whole_lifetime_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now": 10 * HOUR + 10.0}
    for module in (auth_module, hydrate):
        monkeypatch.setattr(module.time, "time", lambda: clock["now"])
    res = SimpleNamespace(
        auth=Authenticator([SecretStr("a-key-for-tests")], SecretStr("s" * 40)), settings=GatewaySettings()
    )
    hydrator = Hydrator(cast(Resources, res))

    first, thumb = hydrator._signed("img1")
    assert _exp(first) - clock["now"] >= URL_LIFETIME_S and _exp(thumb) == _exp(first)
    clock["now"] = 10 * HOUR + 3000  # the same hour: the URL still has more than its lifetime left
    assert hydrator._signed("img1")[0] == first
    for now in (11 * HOUR + 1, 11 * HOUR + 2000, 15 * HOUR + 7):  # later: a fresh URL when needed
        clock["now"] = now
        url, _ = hydrator._signed("img1")
        assert _exp(url) - now >= URL_LIFETIME_S, (now, url)
    assert url != first


def test_a_page_expires_with_its_first_url_known_or_not() -> None:
    res = SimpleNamespace(
        auth=Authenticator([SecretStr("a-key-for-tests")], SecretStr("s" * 40)), settings=GatewaySettings()
    )
    hydrator = Hydrator(cast(Resources, res))
    signed = [hydrator._signed(i) for i in ("a", "b")]
    result = SimpleNamespace(image_id="c", url="/x?exp=100&sig=y", thumbnail_url="/t?exp=90&sig=y")
    pages = [
        [SimpleNamespace(image_id=i, url=u, thumbnail_url=t) for i, (u, t) in zip("ab", signed, strict=True)],
        [result],  # never signed here: read from its URLs
        [SimpleNamespace(image_id="a", url="/x?exp=50&sig=y", thumbnail_url=signed[0][1])],  # not ours
    ]
    soonest = min(_exp(u) for pair in signed for u in pair)
    assert [hydrator.expires(cast(list[SearchResult], p)) for p in pages] == [soonest, 90, 50]
    assert hydrator.expires([]) == float("inf")

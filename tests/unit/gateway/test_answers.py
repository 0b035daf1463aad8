"""Kept answers: served while the search epoch holds, stale after any announce, bump or flush,
never kept when partial or when their signed URLs would outlive their promise."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import redis

from gateway.access import Caller, Role
from gateway.answers import Answer, AnswerCache
from gateway.auth import URL_LIFETIME_S
from services.common.index_signals import IndexEvent, RedisSignals, StoreSignals
from services.common.schemas.public import SearchResponse, SearchResult
from services.common.settings import StorageSettings
from services.common.storage import open_store

CALLER = Caller("key-1", Role.WRITE)


def _response(url: str = "/api/v1/images/a/content", partial: bool = False) -> SearchResponse:
    result = SearchResult(
        image_id="a" * 32,
        collection_id="c",
        score=0.5,
        match="strong",
        filename='ảnh "took_ms":0.0,"cached":true, 1.jpg',  # the stamp's bytes inside a string
        url=url,
        thumbnail_url=url.replace("content", "thumbnail"),
        width=64,
        height=64,
    )
    return SearchResponse(
        results=[result],
        total_candidates=10,
        took_ms=12.5,
        cached=False,
        model_version="m1",
        index_version="v1",
        partial=partial,
        relevance_threshold=0.39,
        calibrated=True,
        best_score=0.5,
        empty_reason=None,
    )


@pytest.fixture
def signals(redis_url: str) -> RedisSignals:
    return RedisSignals(redis_url, f"test-answers-{uuid.uuid4().hex[:8]}")


def test_a_kept_answer_reads_as_the_response_with_only_took_ms_and_cached_new() -> None:
    response = _response()
    data = response.model_copy(update={"took_ms": 0.0, "cached": True}).model_dump_json().encode()
    head, _, tail = data.partition(b'"took_ms":0.0,"cached":true,')
    body = json.loads(Answer(b"1", head, tail).body(0.25))
    assert body == {**json.loads(response.model_dump_json()), "took_ms": 0.25, "cached": True}


async def test_an_answer_holds_until_an_index_event_or_a_catalog_edit(signals: RedisSignals) -> None:
    answers = AnswerCache(signals, 1 << 20, 60)
    key = answers.key(CALLER, "m1", "text", '{"query":"hình tròn"}'.encode())
    first = await answers.epoch()
    assert first is None  # a new epoch starts now; nothing is served until it can be read
    epoch = await answers.epoch()
    assert epoch is not None
    answers.put(key, epoch, _response())
    assert answers.get(key, await answers.epoch()) is not None
    assert (
        answers.get(
            answers.key(Caller("key-2", Role.WRITE), "m1", "text", '{"query":"hình tròn"}'.encode()), epoch
        )
        is None
    )
    await signals.announce(IndexEvent(type="tombstones", collection_id="c", value="2"))
    assert answers.get(key, await answers.epoch()) is None
    epoch = await answers.epoch()
    answers.put(key, epoch, _response())
    await answers.changed()
    assert answers.get(key, await answers.epoch()) is None
    await signals.aclose()


async def test_a_flushed_epoch_never_comes_back_to_an_old_value(
    signals: RedisSignals, redis_url: str
) -> None:
    await signals.bump_epoch()
    before = await signals.epoch()
    redis.Redis.from_url(redis_url).delete(signals.epoch_key)
    await signals.bump_epoch()  # an announce right after the flush
    after = await signals.epoch()
    assert before is not None and after is not None and after != before
    assert int(after) > 1  # a random start, not a count from zero that an old answer may carry
    await signals.aclose()


async def test_partial_answers_and_urls_near_their_end_are_not_kept(signals: RedisSignals) -> None:
    answers = AnswerCache(signals, 1 << 20, 60)
    await signals.bump_epoch()
    epoch = await answers.epoch()
    answers.put("partial", epoch, _response(partial=True))
    soon = int(time.time()) + URL_LIFETIME_S - 1  # already short of its full lifetime
    answers.put("stale-url", epoch, _response(url=f"/api/v1/images/a/content?exp={soon}&sig=x"))
    later = int(time.time()) + URL_LIFETIME_S + 600
    answers.put("fresh-url", epoch, _response(url=f"/api/v1/images/a/content?exp={later}&sig=x"))
    assert answers.get("partial", epoch) is None and answers.get("stale-url", epoch) is None
    assert answers.get("fresh-url", epoch) is not None
    fresh = _response(url=f"/api/v1/images/a/content?exp={later}&sig=x")  # the hydrator knows better
    answers.put("told-soon", epoch, fresh, urls_expire=soon)
    answers.put("told-later", epoch, _response(url=f"/api/v1/images/a/content?exp={soon}&sig=x"), later)
    assert answers.get("told-soon", epoch) is None and answers.get("told-later", epoch) is not None
    await signals.aclose()


async def test_without_redis_nothing_is_kept(tmp_path: Path) -> None:
    store = open_store(StorageSettings(backend="local", local_root=str(tmp_path)))
    answers = AnswerCache(StoreSignals(store), 1 << 20, 60)
    epoch = await answers.epoch()
    assert epoch is None
    answers.put("k", epoch, _response())
    assert answers.get("k", epoch) is None
    dead = AnswerCache(RedisSignals("redis://127.0.0.1:1", "nowhere", timeout_s=0.2), 1 << 20, 60)
    assert await dead.epoch() is None
    await dead.changed()  # a lost bump drops this process's answers instead of raising

"""Ask every search replica at once and merge their hits; say what did not answer or was not searched."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import numpy as np

from services.common.clients import SearchClient
from services.common.clients.base import ServiceError, ServiceUnavailable
from services.common.errors import ApiError
from services.common.schemas.search import Hit, SearchParams
from services.common.schemas.search import SearchResponse as SearchReply

log = logging.getLogger(__name__)


@dataclass
class FanOut:
    hits: list[Hit]  # best first, one per image
    total_candidates: int
    missing: list[str]  # shards (or, when unknown, replicas) that did not answer
    skipped: dict[str, str]  # collection -> why a replica that answered did not search it
    answered: set[tuple[str, str]]  # (collection, version) of every shard set that answered

    @property
    def partial(self) -> bool:
        return bool(self.missing or self.skipped)


class FanOutClient:
    """The replicas of the gateway, and the shards each said it holds when it last answered."""

    def __init__(self, replicas: list[SearchClient], timeout_s: float) -> None:
        self.replicas = replicas
        self.timeout_s = timeout_s
        self._replica_shards: dict[str, list[int]] = {}

    async def search(self, vector: np.ndarray, params: SearchParams) -> FanOut:
        async def one(client: SearchClient) -> SearchReply:
            return await asyncio.wait_for(client.search_vectors(vector, params), self.timeout_s)

        answers = await asyncio.gather(*(one(c) for c in self.replicas), return_exceptions=True)
        best: dict[str, Hit] = {}
        total = 0
        missing: list[str] = []
        skipped: dict[str, str] = {}
        answered: set[tuple[str, str]] = set()
        for client, answer in zip(self.replicas, answers, strict=True):
            if isinstance(answer, BaseException):
                if isinstance(answer, ServiceError):
                    raise ApiError(answer.status, _code(answer.body), str(answer.body))
                log.warning("search replica %s missing: %s", client.base_url, answer)
                known = self._replica_shards.get(client.base_url)
                missing.extend(map(str, known) if known else [client.base_url])
                continue
            self._replica_shards[client.base_url] = answer.shards
            total += answer.total_candidates
            answered.update(answer.index_versions.items())
            for cid, why in answer.skipped.items():
                log.warning("search replica %s skipped collection %s: %s", client.base_url, cid, why)
                skipped.setdefault(cid, why)
            for hit in answer.results[0]:
                if hit.image_id not in best or best[hit.image_id].score < hit.score:
                    best[hit.image_id] = hit
        if len(missing) == len(self.replicas):
            raise ServiceUnavailable("search", "no search replica answered")
        hits = sorted(best.values(), key=lambda h: (-h.score, h.image_id))
        return FanOut(hits=hits, total_candidates=total, missing=missing, skipped=skipped, answered=answered)

    async def search_allowed(
        self, vector: np.ndarray, params: SearchParams, chunks: list[list[str]]
    ) -> FanOut:
        """One fan-out per chunk of an allow-list, all at once, merged by score: the top k of the
        union lies within the chunks' top k each, so the merge is as exact as each chunk."""
        fans = await asyncio.gather(
            *(self.search(vector, params.model_copy(update={"include_ids": chunk})) for chunk in chunks)
        )
        hits = sorted((h for fan in fans for h in fan.hits), key=lambda h: (-h.score, h.image_id))
        return FanOut(
            hits=hits[: params.k],
            total_candidates=sum(fan.total_candidates for fan in fans),
            missing=sorted({m for fan in fans for m in fan.missing}),
            skipped={cid: why for fan in fans for cid, why in fan.skipped.items()},
            answered={pair for fan in fans for pair in fan.answered},
        )


def _code(body: object) -> str:
    """The replica's own error code (`filter_unsupported`, ...) when its body carries one."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("code"), str):
            return str(inner["code"])
    return "search_error"

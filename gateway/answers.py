"""Whole search answers kept in this process, served again while nothing they depend on changed.

A repeated search is answered from the bytes of its earlier answer after one Redis read: the
search epoch (`IndexSignals.epoch`), a token every index publish, tombstone, dropped
collection and catalog edit changes. An answer is kept under the caller, the serving model's
version and the request exactly as sent, with the epoch read before it was computed, so a
change that lands while it is computed makes it stale at once; with no epoch to read (no
Redis, or Redis failing) nothing is served from here. Only the `took_ms` of a kept answer is
written anew (and `cached` reads true); its signed URLs are those of the first answer, kept no
longer than they have their full lifetime left (gateway/hydrate.py), and a partial answer is
never kept. `ttl_s` bounds how long a catalog edit whose epoch bump was lost can go unseen.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.access import Caller
from gateway.auth import URL_LIFETIME_S, url_expiry
from gateway.guard import CALLER_STATE
from gateway.lru import LocalLRU
from gateway.query import digest
from services.common.index_signals import IndexSignals
from services.common.schemas.public import SearchResponse

log = logging.getLogger(__name__)
_STAMP = b'"took_ms":0.0,"cached":true,'
KEEP_STATE = "keep_answer_as"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Answer:
    epoch: bytes
    head: bytes  # the JSON body up to `took_ms`
    tail: bytes  # and from the field after `cached` on

    def body(self, took_ms: float) -> bytes:
        return b'%s"took_ms":%.3f,"cached":true,%s' % (self.head, took_ms, self.tail)


class AnswerCache:
    def __init__(self, signals: IndexSignals, max_bytes: int, ttl_s: float) -> None:
        self.signals = signals
        self.enabled = max_bytes > 0
        self._lru: LocalLRU[Answer] = LocalLRU(max_bytes, ttl_s)

    @staticmethod
    def key(caller: Caller, model_version: str, kind: str, request: bytes) -> str:
        h = hashlib.blake2b(
            digest(caller.id, caller.role.value, model_version, kind).encode(), digest_size=16
        )
        h.update(request)
        return h.hexdigest()

    async def epoch(self) -> bytes | None:
        """The current search epoch; None (serve nothing from here) when it cannot be read."""
        if not self.enabled:
            return None
        try:
            return await self.signals.epoch()
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("search epoch unavailable, answering uncached: %s", exc)
            return None

    def get(self, key: str, epoch: bytes | None) -> Answer | None:
        if epoch is None:
            return None
        answer = self._lru.get(key)
        return answer if answer is not None and answer.epoch == epoch else None

    def put(
        self, key: str, epoch: bytes | None, response: SearchResponse, urls_expire: float | None = None
    ) -> None:
        """Keep `response` while its URLs have their full lifetime left: `urls_expire` is the
        earliest expiry of its signed URLs when the caller knows it (`Hydrator.expires`), else each
        URL is read for it (parsing 40 URLs a page cost a new query more than its hydration)."""
        if epoch is None or response.partial:
            return
        data = response.model_copy(update={"took_ms": 0.0, "cached": True}).model_dump_json().encode()
        head, stamp, tail = data.partition(_STAMP)
        if not stamp:
            return
        if urls_expire is None:
            expiries = (url_expiry(u) for r in response.results for u in (r.url, r.thumbnail_url))
            urls_expire = min(expiries, default=float("inf"))
        lifetime = urls_expire - URL_LIFETIME_S - time.time()
        if lifetime <= 0:
            return
        self._lru.put(key, Answer(epoch, head, tail), len(data), ttl_s=lifetime)

    async def changed(self) -> None:
        """After a catalog write: every kept answer, here and in other gateways, is stale."""
        try:
            await self.signals.bump_epoch()
        except (RedisError, OSError, TimeoutError) as exc:
            # Other gateways see the edit once their kept answers expire (`ttl_s`); this one now.
            log.warning("search epoch not bumped, dropping this gateway's kept answers: %s", exc)
            self._lru.clear()


class StaleAnswersOnWrites:
    """Every successful write through the API (POST, PATCH, PUT, DELETE, searches aside) makes
    the kept answers stale before its response starts, so a client that edits a note, an album
    or a collection and searches next sees its edit, whichever gateway answers. Index changes
    bump the epoch where they are announced; this covers the catalog, for routes present and
    future alike."""

    def __init__(self, app: ASGIApp, search_prefix: str) -> None:
        self.app = app
        self.search_prefix = search_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _WRITES
            or scope.get("path", "").startswith(self.search_prefix)
        ):
            await self.app(scope, receive, send)
            return
        answers: AnswerCache = scope["app"].state.resources.answers

        async def send_after_bump(message: Message) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                await answers.changed()
            await send(message)

        await self.app(scope, receive, send_after_bump)


class ServeKeptAnswers:
    """`POST /search` before routing: a kept answer goes out from here, after the one epoch read,
    without the router, the dependencies or body validation; any other request (and every miss)
    goes on to the route with its body replayed and, in the request state, the key and epoch the
    route keeps its answer under. The key is the body's bytes as sent and its content type: an
    answer is only ever kept after the route accepted that body."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app = app
        self.path = path
        self.route = _Route(path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        answers: AnswerCache = state.resources.answers
        caller = scope.get("state", {}).get(CALLER_STATE)
        if not answers.enabled or not isinstance(caller, Caller):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        epoch = await answers.epoch()
        keep: KeepAs | None = None
        try:
            version = (await state.planner.model_info()).version
        except Exception:  # the encoder down: the route answers, with the API's own error for it
            version = None
        if version is not None:
            keep = KeepAs(answers.key(caller, version, "text", content_type + b"\n" + body), epoch, version)
        kept = answers.get(keep.key, epoch) if keep is not None else None
        if kept is not None:
            scope["route"] = self.route  # what request metrics label it by
            payload = kept.body(round((time.perf_counter() - start) * 1000, 3))
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        if keep is not None:
            scope.setdefault("state", {})[KEEP_STATE] = keep
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


@dataclass(frozen=True)
class KeepAs:
    """Where the route keeps its answer: the key and epoch read before it ran, the model version."""

    key: str
    epoch: bytes | None
    model_version: str


@dataclass(frozen=True)
class _Route:
    path: str

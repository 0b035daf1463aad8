"""What the routes call: limits, image fetching and decoding, and the two batchers over one model thread.

Forwards of both kinds share one thread, so a text forward and an image forward never compete
for the same cores or GPU stream; decoding runs on its own small pool, in parallel with them.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import torch

from services.common.errors import ApiError, ErrorDetail
from services.common.images import ImageDecodeError
from services.common.schemas.encoder import EmbedLimits, ModelInfo
from services.common.storage import ChecksumMismatch, ObjectNotFound, ObjectStore, StorageError
from services.encoder.batching import MicroBatcher
from services.encoder.encoding import EmbedResult
from services.encoder.metrics import EncoderMetrics
from services.encoder.runner import ModelRunner
from services.encoder.settings import EncoderSettings

T = TypeVar("T")
Source = bytes | ErrorDetail  # an image's bytes, or why there are none


def _error(code: str, message: str) -> ErrorDetail:
    return ErrorDetail(code=code, message=message)


class EncoderService:
    def __init__(
        self,
        runner: ModelRunner,
        settings: EncoderSettings,
        metrics: EncoderMetrics,
        store: ObjectStore | None,
    ) -> None:
        self.runner = runner
        self.settings = settings
        self.metrics = metrics
        self.store = store
        self.version = runner.model.version
        self.dim = runner.model.embed_dim
        self._model_thread = ThreadPoolExecutor(1, thread_name_prefix="encoder-model")
        self._preprocess = ThreadPoolExecutor(settings.preprocess_workers, thread_name_prefix="encoder-prep")
        self._reads = asyncio.Semaphore(settings.storage_concurrency)
        self.texts: MicroBatcher[str, np.ndarray] = self._batcher("text", runner.encode_texts)
        self.images: MicroBatcher[torch.Tensor, np.ndarray] = self._batcher("image", runner.encode_pixels)

    def _batcher(self, kind: str, forward: Callable[[list[T]], np.ndarray]) -> MicroBatcher[T, np.ndarray]:
        return MicroBatcher(
            kind,
            lambda items: list(forward(items)),
            self._model_thread,
            self.metrics,
            max_batch=self.settings.effective_max_batch,
            max_wait_s=self.settings.max_wait_ms / 1000,
            max_queue=self.settings.max_queue,
        )

    def start(self) -> None:
        self.texts.start()
        self.images.start()

    async def aclose(self) -> None:
        await self.texts.stop()
        await self.images.stop()
        self._preprocess.shutdown(wait=False, cancel_futures=True)
        self._model_thread.shutdown(wait=True, cancel_futures=True)

    def info(self) -> ModelInfo:
        s = self.settings
        limits = EmbedLimits(
            max_texts_per_call=s.max_texts_per_call,
            max_text_chars=s.max_text_chars,
            max_images_per_call=s.max_images_per_call,
            max_image_bytes=s.max_image_bytes,
            max_image_pixels=s.max_image_pixels,
        )
        return self.runner.info().model_copy(update={"max_batch": s.effective_max_batch, "limits": limits})

    async def embed_texts(self, texts: Sequence[str]) -> EmbedResult:
        """413 for too many or too long texts, 422 for a blank one; else one unit vector per text."""
        limit = self.settings.max_texts_per_call
        if len(texts) > limit:
            raise ApiError(413, "too_many_texts", f"At most {limit} texts per request.", {"max": limit})
        normalised = [unicodedata.normalize("NFC", t) for t in texts]
        most = self.settings.max_text_chars
        for i, text in enumerate(normalised):
            if len(text) > most:
                raise ApiError(
                    413,
                    "text_too_long",
                    f"Text {i} has {len(text)} characters; at most {most} are allowed.",
                    {"index": i, "max": most},
                )
            if not text.strip():
                raise ApiError(422, "empty_text", f"Text {i} is blank.", {"index": i})
        rows = await self.texts.submit(normalised)
        return EmbedResult(np.stack(rows).astype(np.float32, copy=False), self.version)

    def too_many_images(self) -> ApiError:
        limit = self.settings.max_images_per_call
        return ApiError(413, "too_many_images", f"At most {limit} images per request.", {"max": limit})

    def check_image_count(self, count: int) -> None:
        if count > self.settings.max_images_per_call:
            raise self.too_many_images()

    async def embed_images(self, sources: Sequence[Source]) -> EmbedResult:
        """Decode what can be decoded in parallel, embed it in shared batches, report the rest per index."""
        self.check_image_count(len(sources))
        prepared = await asyncio.gather(*(self._prepare(s) for s in sources))
        errors = {i: p for i, p in enumerate(prepared) if isinstance(p, ErrorDetail)}
        for error in errors.values():
            self.metrics.rejected.labels("image", error.code).inc()
        good = [(i, p) for i, p in enumerate(prepared) if not isinstance(p, ErrorDetail)]
        vectors = np.full((len(sources), self.dim), np.nan, dtype=np.float32)
        if good:
            rows = await self.images.submit([p for _, p in good])
            vectors[[i for i, _ in good]] = np.stack(rows)
        return EmbedResult(vectors, self.version, errors)

    async def _prepare(self, source: Source) -> torch.Tensor | ErrorDetail:
        if isinstance(source, ErrorDetail):
            return source
        if len(source) > self.settings.max_image_bytes:
            return _error("file_too_large", f"The file exceeds {self.settings.max_image_bytes:,} bytes.")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._preprocess, self.runner.preprocess, source, self.settings.max_image_pixels
            )
        except ImageDecodeError as exc:
            return _error(exc.code, exc.message)

    async def read_keys(self, keys: Sequence[str]) -> list[Source]:
        """Each key's bytes or its per-key error; a storage outage fails the whole request (503)."""
        self.check_image_count(len(keys))
        if self.store is None:
            raise ApiError(503, "storage_unavailable", "This encoder has no object storage configured.")
        return list(await asyncio.gather(*(self._read(k) for k in keys)))

    async def _read(self, key: str) -> Source:
        assert self.store is not None
        async with self._reads:
            try:
                return await self.store.aget(key)
            except ValueError:
                return _error("invalid_key", f"{key!r} is not a valid object key.")
            except ObjectNotFound:
                return _error("not_found", f"No object has the key {key!r}.")
            except ChecksumMismatch:
                return _error(
                    "checksum_mismatch", f"The object {key!r} does not match its recorded checksum."
                )
            except StorageError as exc:
                raise ApiError(503, "storage_unavailable", f"Object storage failed: {exc}") from exc

"""OCR of indexed images, beside ingestion: once a batch's vectors are stored, its images are read
by Tesseract on a thread pool of their own, and their words written to the catalog.

A job never waits for OCR nor fails because of it: a missing Tesseract turns OCR off (and says so
in `/readyz`, a check that does not fail readiness), and an image OCR cannot read is logged and
left without text. An image already read by the same engine is not read again, so a job run twice
costs one OCR.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from imaging.decoding import decode_image
from imaging.ocr import OcrBudget, OcrResult, engine_version, has_text, ocr_available, ocr_image
from services.common.catalog import Catalog, image_key, thumbnail_key
from services.common.health import Check
from services.common.index_signals import IndexSignals
from services.common.storage import ObjectNotFound

log = logging.getLogger(__name__)


class OcrRunner:
    def __init__(
        self,
        catalog: Catalog,
        budget: OcrBudget,
        workers: int,
        *,
        enabled: bool = True,
        signals: IndexSignals | None = None,
    ) -> None:
        self.catalog, self.budget, self.signals = catalog, budget, signals
        self.enabled = enabled
        self.available = False
        self.reason: str | None = "OCR is turned off (INDEXER_OCR_ENABLED=false)" if not enabled else None
        self.workers = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="ocr")
        self._pending: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        """Find out whether Tesseract and the budget's languages are installed here."""
        if not self.enabled:
            return
        self.available = await asyncio.to_thread(ocr_available, self.budget.language)
        if not self.available:
            self.reason = f"tesseract or its {self.budget.language!r} language data is not installed"
            log.warning("OCR off: %s", self.reason)

    def submit(self, collection_id: str, image_ids: list[str]) -> None:
        """Queue the images for OCR and return at once: split over the OCR threads, each part read
        with one catalog query before and one transaction after. Once the batch is read, the
        search epoch moves (one bump a batch), so answers kept before its words were searchable
        are stale."""
        if not self.available or not image_ids:
            return
        loop = asyncio.get_running_loop()
        parts = min(self.workers, len(image_ids))
        batch = []
        for k in range(parts):
            future = loop.run_in_executor(self._pool, self.read_batch, collection_id, image_ids[k::parts])
            self._pending.add(future)
            future.add_done_callback(self._pending.discard)
            batch.append(future)
        if self.signals is not None:
            task: asyncio.Future[bool] = asyncio.ensure_future(self._announce(batch))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _announce(self, batch: list[asyncio.Future[int]]) -> bool:
        read = await asyncio.gather(*batch, return_exceptions=True)
        if self.signals is None or not any(isinstance(r, int) and r > 0 for r in read):
            return False
        try:
            await self.signals.bump_epoch()
        except Exception as exc:  # kept answers then age out by their TTL
            log.warning("could not announce OCR text: %s", exc)
        return True

    def read_one(self, collection_id: str, image_id: str) -> bool:
        """Blocking: OCR one stored image into the catalog; False when it was read already or failed."""
        return self.read_batch(collection_id, [image_id]) > 0

    def read_batch(self, collection_id: str, image_ids: list[str]) -> int:
        """Blocking: OCR stored images into the catalog, skipping those this engine read already;
        returns how many readings were stored. An image that cannot be read is logged and left
        without text; the others are stored all the same."""
        try:
            engine = engine_version()
            known = self.catalog.get_image_texts(image_ids)
            results = {}
            for image_id in image_ids:
                if image_id in results or (image_id in known and known[image_id].engine == engine):
                    continue
                result = self._read(collection_id, image_id)
                if result is not None:
                    results[image_id] = result
            return len(self.catalog.set_image_texts(results))
        except Exception:
            log.exception("OCR of %d images of collection %s failed", len(image_ids), collection_id)
            return 0

    def _read(self, collection_id: str, image_id: str) -> OcrResult | None:
        """What OCR reads in one stored image; None (logged) when it cannot be read."""
        try:
            start = time.perf_counter()
            # The presence check on the stored 256 px thumbnail: the same decision as on the picture
            # (148/148 signs kept, 0/52 blank scenes on the ViShapes-vi text set) at a third of the
            # cost (2.5 ms against 7.0 ms with decoding, 480 px PNG), and the picture itself is only
            # fetched and decoded when there is text to read.
            try:
                thumb: bytes | None = self.catalog.store.get(thumbnail_key(collection_id, image_id))
            except ObjectNotFound:  # not made yet: the check runs on the picture
                thumb = None
            if thumb is not None and not has_text(decode_image(thumb)):
                return OcrResult("", 0.0, engine_version(), time.perf_counter() - start, skipped=True)
            data = self.catalog.store.get(image_key(collection_id, image_id))
            return ocr_image(decode_image(data), self.budget, check=thumb is None)
        except Exception:
            log.exception("OCR of image %s failed", image_id)
            return None

    async def drain(self) -> None:
        """Wait until every queued image has been read."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def check(self) -> Check:
        """A readiness check that reports OCR's state and never fails readiness."""

        async def state() -> str | None:
            return None if self.available else self.reason

        return Check("ocr:tesseract", state, required=False)

    async def aclose(self) -> None:
        """Drop the images not started yet; those being read finish first."""
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)

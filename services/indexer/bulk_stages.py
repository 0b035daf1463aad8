"""The two stages of bulk embedding (`services.indexer.bulk`), plain callables a Ray Data pipeline runs.

`prepare_items` runs on CPU tasks: it reads each item of an import source (same rules and limits
as an import job), gives it its content-hash id, decodes it with the shared safe decoder, stores
its bytes and thumbnail as an upload would, and turns its pixels into the model's input. Only
small things go back: the catalog row and the pixel tensor. `ImageEmbedder` runs in actors (one
model each, on a GPU when it has one) and adds the vectors. Rows travel as numpy batches:
`ref`, `part`, `image_id`, `error` (a rejection code, "" when fine), `row` (the pickled catalog
row) and `pixels`, then `vector`.
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from services.common.catalog import image_id_for, write_image_objects
from services.common.checkpoints import cache_name, fetch_checkpoint, recorded_version, store_prefix
from services.common.images import ImageDecodeError, PreparedImage, decode, make_thumbnail
from services.common.schemas.indexer import JobRequest
from services.common.settings import StorageSettings
from services.common.storage import ObjectStore, open_store
from services.indexer.sources import ItemError, SourcePolicy, item_folder, item_name, read_item

if TYPE_CHECKING:
    from vi_clip.transforms import ImageTransform

Batch = dict[str, np.ndarray]
DELETED = "deleted"  # the rejection code of an image the collection's tombstones name


class ModelMismatch(RuntimeError):
    """An actor loaded a model whose version is not the one the run writes vectors for."""


CHECKPOINT_CACHE = Path(tempfile.gettempdir()) / "timanh-checkpoints"


def local_checkpoint(source: str, store: ObjectStore | None, version: str | None = None) -> str:
    """A folder holding the checkpoint `source` names: itself, or a copy of `store:<prefix>` on
    this machine (the machines of a cluster share no disk). A copy already here that records
    `version` is used as it is (the driver's, for actors on its machine): the caller checks that
    its weights hash to that version."""
    prefix = store_prefix(source)
    if prefix is None or store is None:
        return source
    cached = CHECKPOINT_CACHE / cache_name(prefix)
    if version is not None and recorded_version(cached) == version:
        return str(cached)
    return str(fetch_checkpoint(store, prefix, CHECKPOINT_CACHE))


@dataclass(frozen=True)
class PreparePlan:
    """What a prepare task needs to know; pickled once per task."""

    request: JobRequest
    policy: SourcePolicy
    storage: StorageSettings
    transform: ImageTransform
    max_pixels: int
    deleted: frozenset[str]  # ids of images deleted from the collection
    threads: int = 8  # items of a task in flight at once


def prepare_items(batch: Batch, plan: PreparePlan) -> Batch:
    """Read, check, store and preprocess a batch of items; a bad item gets its code, not an error.

    Items go through a few threads: most of an item's time is waiting on storage (one read, two
    writes), and decoding releases the GIL, so one CPU task keeps a model actor fed."""
    store = open_store(plan.storage)
    refs = [str(ref) for ref in batch["ref"].tolist()]
    with ThreadPoolExecutor(plan.threads) as pool:
        done = list(pool.map(lambda ref: _prepare(ref, plan, store), refs))
    side = plan.transform.image_size
    pixels = np.zeros((len(refs), 3, side, side), dtype=np.float32)
    for i, item in enumerate(done):
        if item.pixels is not None:
            pixels[i] = item.pixels
    return {
        "ref": batch["ref"],
        "part": batch["part"],
        "image_id": np.array([item.image_id for item in done], dtype=object),
        "error": np.array([item.error for item in done], dtype=object),
        "row": np.array([item.row for item in done], dtype=object),
        "pixels": pixels,
    }


@dataclass
class _Prepared:
    image_id: str = ""
    error: str = ""
    row: bytes = b""
    pixels: np.ndarray | None = None


def _prepare(ref: str, plan: PreparePlan, store: ObjectStore) -> _Prepared:
    cid = plan.request.collection_id
    out = _Prepared()
    try:
        data = read_item(plan.request, ref, store, plan.policy)
        out.image_id = image_id_for(cid, hashlib.sha256(data).hexdigest())
        if out.image_id in plan.deleted:
            out.error = DELETED
            return out
        decoded = decode(data, max_pixels=plan.max_pixels)
        thumbnail = make_thumbnail(decoded.image)
        prepared = PreparedImage(decoded.content_type, decoded.width, decoded.height, thumbnail)
        pixels = plan.transform(decoded.image).numpy()
        folder = item_folder(plan.request, ref, plan.policy)
        out.row = pickle.dumps(write_image_objects(store, cid, item_name(ref), data, prepared, folder=folder))
        out.pixels = pixels
    except ItemError as exc:
        out.error = exc.code
    except ImageDecodeError as exc:
        out.error = exc.code
    return out


class ImageEmbedder:
    """One model in one actor: the checkpoint the encoder serves, checked against its version."""

    def __init__(
        self,
        model: str,
        device: str,
        expected_version: str,
        torch_threads: int,
        storage: StorageSettings | None = None,
    ) -> None:
        import torch

        from vi_clip import create_model, resolve_device

        if torch_threads:
            torch.set_num_threads(torch_threads)
        self.torch = torch
        store = open_store(storage) if storage is not None and store_prefix(model) else None
        path = local_checkpoint(model, store, expected_version)
        self.model = create_model(path, device=resolve_device(device))
        if self.model.version != expected_version:
            raise ModelMismatch(f"{model} is model {self.model.version}, not {expected_version}")
        self.device = self.model.device
        self.dim = self.model.embed_dim

    def __call__(self, batch: Batch) -> Batch:
        torch = self.torch
        good = np.array([e == "" for e in batch["error"]], dtype=bool)
        vectors = np.zeros((len(good), self.dim), dtype=np.float32)
        if good.any():
            pixels = torch.from_numpy(np.ascontiguousarray(batch["pixels"][good]))
            on_gpu = self.device.type == "cuda"
            if on_gpu:  # bfloat16 matmuls, float32 weights and norms: the encoder's `auto` dtype
                pixels = pixels.pin_memory().to(self.device, non_blocking=True)
            with torch.inference_mode(), torch.autocast(self.device.type, torch.bfloat16, enabled=on_gpu):
                vectors[good] = self.model.encode_image(pixels).float().cpu().numpy()
        out = {k: batch[k] for k in ("ref", "part", "image_id", "error", "row")}
        out["vector"] = vectors
        return out

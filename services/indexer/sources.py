"""Job sources: catalogued images, a storage prefix to import, or a folder under allowed roots.

Each source becomes a sorted list of item references (image ids, object keys or file
paths), so a job taken over after a crash splits into the same batches again.
"""

from __future__ import annotations

from pathlib import Path

from services.common.catalog import Catalog, ImageRecord
from services.common.errors import ApiError
from services.common.images import ImageDecodeError
from services.common.schemas.indexer import FolderSource, JobRequest, ObjectsSource, PrefixSource
from services.common.storage import ObjectNotFound, ObjectStore

MAX_ITEMS = 1_000_000


class ItemError(Exception):
    """One item cannot be indexed; the job goes on and reports it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def resolve_folder(path: str, roots: list[Path]) -> Path:
    """The folder `path` names inside an allowed root; anything outside them is refused."""
    for root in roots:
        base = root.resolve()
        try:
            candidate = (base / path).resolve()
            if candidate.is_relative_to(base) and candidate.is_dir():
                return candidate
        except (OSError, ValueError):  # a name too long for the file system, a NUL byte: no such folder
            continue
    raise ApiError(
        422, "import_outside_roots", "The folder is not inside an allowed import root.", {"path": path}
    )


def prefix_key(uri: str, bucket: str | None) -> str:
    """`s3://bucket/prefix` (our bucket only) or a plain key prefix."""
    if uri.startswith("s3://"):
        name, _, key = uri[5:].partition("/")
        if name != bucket:
            raise ApiError(
                422, "import_foreign_bucket", "Only the configured bucket can be imported.", {"uri": uri}
            )
        return key
    if ".." in uri.split("/"):
        raise ApiError(422, "invalid_prefix", "The prefix may not contain `..`.", {"uri": uri})
    return uri


def check_source(request: JobRequest, roots: list[Path], bucket: str | None) -> None:
    """Refuse a bad source when the job is created (422), not later in a worker."""
    source = request.source
    if isinstance(source, FolderSource):
        resolve_folder(source.path, roots)
    elif isinstance(source, PrefixSource):
        prefix_key(source.uri, bucket)


def list_items(request: JobRequest, store: ObjectStore, roots: list[Path], bucket: str | None) -> list[str]:
    source = request.source
    if isinstance(source, ObjectsSource):
        items = sorted(set(source.image_ids))
    elif isinstance(source, PrefixSource):
        items = store.list_keys(prefix_key(source.uri, bucket))
    else:
        folder = resolve_folder(source.path, roots)
        items = sorted(
            str(p)
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".") and p.resolve().is_relative_to(folder)
        )
    return items[:MAX_ITEMS]


def load_item(request: JobRequest, ref: str, catalog: Catalog) -> ImageRecord:
    """The catalogued image an item stands for, importing its bytes first when needed."""
    cid = request.collection_id
    if isinstance(request.source, ObjectsSource):
        record = catalog.get_image(ref)
        if record is None or record.collection_id != cid:
            raise ItemError("not_found", "No such image in this collection.")
        return record
    try:
        data = catalog.store.get(ref) if isinstance(request.source, PrefixSource) else Path(ref).read_bytes()
    except (ObjectNotFound, OSError) as exc:
        raise ItemError("unreadable", f"Cannot read the item: {type(exc).__name__}") from exc
    try:
        record, _ = catalog.store_image(cid, ref.rsplit("/", 1)[-1], data)
    except ImageDecodeError as exc:
        raise ItemError(exc.code, str(exc)[:200]) from exc
    return record

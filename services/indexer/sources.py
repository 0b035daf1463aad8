"""Job sources: catalogued images, a storage prefix to import, or a folder under allowed roots.

Each source streams item references (image ids, object keys or file paths) in a stable
order, one storage page or directory at a time, so a job taken over after a crash splits
into the same batches again and no listing ever holds a whole bucket in memory.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from services.common.catalog import Catalog, ImageRecord
from services.common.errors import ApiError
from services.common.images import ImageDecodeError
from services.common.schemas.indexer import FolderSource, JobRequest, ObjectsSource, PrefixSource
from services.common.storage import ObjectNotFound, ObjectStore, ObjectTooLarge, validate_source_key

MAX_ITEMS = 1_000_000


class ItemError(Exception):
    """One item cannot be indexed; the job goes on and reports it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class SourcePolicy:
    """Where imports may read: server folders, key prefixes of our bucket, and how big an item is."""

    roots: list[Path]
    bucket: str | None
    prefixes: list[str]
    max_bytes: int


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


def prefix_key(uri: str, policy: SourcePolicy) -> str:
    """`s3://bucket/prefix` (our bucket only) or a plain key prefix, inside an allowed import prefix.

    Anything else (other collections' images, index objects, the catalog) is refused."""
    key = uri
    if uri.startswith("s3://"):
        name, _, key = uri[5:].partition("/")
        if name != policy.bucket:
            raise ApiError(
                422, "import_foreign_bucket", "Only the configured bucket can be imported.", {"uri": uri}
            )
    if ".." in key.split("/"):
        raise ApiError(422, "invalid_prefix", "The prefix may not contain `..`.", {"uri": uri})
    if not any(key.startswith(allowed) for allowed in policy.prefixes):
        raise ApiError(
            422,
            "import_outside_prefixes",
            "Imports may read only under the configured import prefixes.",
            {"uri": uri, "allowed": policy.prefixes},
        )
    return key


def check_source(request: JobRequest, policy: SourcePolicy) -> None:
    """Refuse a bad source when the job is created (422), not later in a worker."""
    source = request.source
    if isinstance(source, FolderSource):
        resolve_folder(source.path, policy.roots)
    elif isinstance(source, PrefixSource):
        prefix_key(source.uri, policy)


def _walk(folder: Path) -> Iterator[str]:
    """Files under `folder`, one directory listing at a time, sorted within each; no symlinks out."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        elif entry.is_file() and Path(entry.path).resolve().is_relative_to(folder):
            yield entry.path


def iter_items(request: JobRequest, store: ObjectStore, policy: SourcePolicy) -> Iterator[str]:
    source = request.source
    items: Iterator[str]
    if isinstance(source, ObjectsSource):
        items = iter(sorted(set(source.image_ids)))
    elif isinstance(source, PrefixSource):
        items = store.iter_keys(prefix_key(source.uri, policy))
    else:
        items = _walk(resolve_folder(source.path, policy.roots))
    return itertools.islice(items, MAX_ITEMS)


def batches(items: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def _read_file(path: str, max_bytes: int) -> bytes:
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size > max_bytes:
            raise ObjectTooLarge(path, max_bytes)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ObjectTooLarge(path, max_bytes)
    return data


def item_folder(request: JobRequest, ref: str, policy: SourcePolicy) -> str | None:
    """The folder an imported item sat in, as people name it: the key's folder in the bucket, or the
    import's folder (relative to its root) and the subfolder the file was found in."""
    source = request.source
    if isinstance(source, PrefixSource):
        return ref.rpartition("/")[0] or None
    if isinstance(source, FolderSource):
        inside = Path(ref).parent.relative_to(resolve_folder(source.path, policy.roots))
        return str(Path(source.path.strip("/")) / inside)
    return None


def read_item(request: JobRequest, ref: str, store: ObjectStore, policy: SourcePolicy) -> bytes:
    """The bytes of an imported item (a key of the bucket or a file), at most `policy.max_bytes`."""
    max_bytes = policy.max_bytes
    try:
        if isinstance(request.source, PrefixSource):
            return store.read_capped(validate_source_key(ref), max_bytes)
        return _read_file(ref, max_bytes)
    except ObjectTooLarge as exc:
        raise ItemError("file_too_large", f"The file exceeds {max_bytes:,} bytes.") from exc
    except ValueError as exc:
        raise ItemError("invalid_name", "The file name cannot be read as a storage key.") from exc
    except (ObjectNotFound, OSError) as exc:
        raise ItemError("unreadable", f"Cannot read the item: {type(exc).__name__}") from exc


def item_name(ref: str) -> str:
    """The filename an imported item keeps: the last part of its key or path."""
    return ref.rsplit("/", 1)[-1]


def load_item(request: JobRequest, ref: str, catalog: Catalog, policy: SourcePolicy) -> ImageRecord:
    """The catalogued image an item stands for (`load_items` of one); raises its ItemError."""
    loaded = load_items(request, [ref], catalog, policy)[0]
    if isinstance(loaded, ItemError):
        raise loaded
    return loaded


def load_items(
    request: JobRequest, refs: list[str], catalog: Catalog, policy: SourcePolicy
) -> list[ImageRecord | ItemError]:
    """The catalogued image each item stands for, or why it has none, in the order of `refs`;
    items to import are stored first, bytes and thumbnails one by one and every new row in one
    transaction, and catalogued images are read in one query.

    An imported file keeps the name people gave it (spaces, diacritics, `#`) as its filename and
    the folder it was found in; it is stored under the image's own id, so the name never has to
    be a valid key. A collection deleted meanwhile raises CollectionNotFound."""
    cid = request.collection_id
    if isinstance(request.source, ObjectsSource):
        found = catalog.get_images(refs)
        missing = ItemError("not_found", "No such image in this collection.")
        return [
            r if (r := found.get(ref)) is not None and r.collection_id == cid else missing for ref in refs
        ]
    loaded: list[str | ImageRecord | ItemError] = []
    rows: dict[str, dict[str, object]] = {}
    for ref in refs:
        try:
            data = read_item(request, ref, catalog.store, policy)
            folder = item_folder(request, ref, policy)
            written = catalog.write_image(cid, item_name(ref), data, folder=folder, written=rows)
        except ImageDecodeError as exc:
            loaded.append(ItemError(exc.code, str(exc)[:200]))
            continue
        except ItemError as exc:
            loaded.append(exc)
            continue
        if written.row is not None:
            rows[written.image_id] = written.row
        loaded.append(written.stored or written.image_id)
    if rows:
        catalog.add_image_rows(cid, list(rows.values()))
    added = catalog.get_images(list(rows))
    return [added[x] if isinstance(x, str) else x for x in loaded]

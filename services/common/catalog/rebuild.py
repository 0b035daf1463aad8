"""Rebuilding the catalog database from storage alone, after a disaster.

Every image object carries its collection, id, filename, folder and upload time as object
metadata, and every collection a small backup object (`collections/{id}.json`); the bytes give
the dimensions and the EXIF again. A collection deleted for good (its `index-state/deleted/`
marker) is never brought back, and images whose collection has no backup are left out rather
than shown to every key. Rows already present are kept as they are (with their notes, albums and
tags, which live in the database only), so a rebuild can be repeated or resumed.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from services.common.catalog.keys import COLLECTIONS_PREFIX, IMAGES_PREFIX, ImageObjectMeta
from services.common.catalog.repository import Catalog, backup_record
from services.common.images import ImageDecodeError
from services.common.shards import is_deleted
from services.common.storage import StorageError

log = logging.getLogger(__name__)


@dataclass
class RebuildReport:
    collections: int = 0
    images: int = 0
    kept: int = 0  # rows that were already there
    skipped: Counter[str] = field(default_factory=Counter)  # why objects were left out


def rebuild(catalog: Catalog) -> RebuildReport:
    store, report = catalog.store, RebuildReport()
    live: set[str] = set()
    for key in store.iter_keys(COLLECTIONS_PREFIX):
        cid = key[len(COLLECTIONS_PREFIX) :].removesuffix(".json")
        if is_deleted(store, cid):
            report.skipped["deleted_collection"] += 1
            continue
        try:
            record = backup_record(store.get(key))
        except (StorageError, ValueError) as exc:
            log.warning("unreadable collection backup %s: %s", key, exc)
            report.skipped["unreadable_backup"] += 1
            continue
        catalog.restore_collection(record)
        live.add(record.id)
        report.collections += 1
    for key in store.iter_keys(IMAGES_PREFIX):
        info = store.stat(key)
        meta = ImageObjectMeta.from_metadata(info.metadata) if info is not None else None
        if meta is None:
            report.skipped["no_metadata"] += 1
            continue
        if meta.collection_id not in live:
            report.skipped["no_collection"] += 1
            continue
        if catalog.get_image(meta.image_id) is not None:
            report.kept += 1
            continue
        try:
            catalog.restore_image(meta, store.get(key))
        except (StorageError, ImageDecodeError) as exc:
            log.warning("image %s not restored: %s", key, exc)
            report.skipped["unreadable_image"] += 1
            continue
        report.images += 1
    return report

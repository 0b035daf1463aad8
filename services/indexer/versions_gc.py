"""Garbage collection of superseded index versions, after a grace period.

Versions share segment objects (an unchanged segment keeps its key across versions), so an
object is removed only when no kept manifest names it. Kept: the current version, every
version superseded less than `grace_s` ago (a replica may still be loading it), and every
version newer than the current one (a publish in progress). What remains of a collection is
its current version plus, within the grace period, the one before.

A pass reports when the oldest version it kept for the grace expires, so the caller can come
back then: collection does not depend on another publish arriving.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import NamedTuple

from services.common.shards import Manifest, index_prefix, manifest_key, read_current, version_time
from services.common.storage import ObjectNotFound, ObjectStore

log = logging.getLogger(__name__)


def _referenced(manifest: Manifest) -> set[str]:
    keys = {manifest_key(manifest.collection_id, manifest.version)}
    for shard in manifest.shards:
        for seg in shard.segments:
            keys |= {seg.key, seg.ids_key}
    return keys


class Collected(NamedTuple):
    removed: int
    """Objects removed by this pass."""
    retry_in_s: float | None
    """Seconds until a superseded version kept for the grace expires; None when none is kept."""


def collect_versions(
    store: ObjectStore, collection_id: str, grace_s: float, now: float | None = None
) -> Collected:
    """Blocking. Does nothing without a current version."""
    pointer = read_current(store, collection_id)
    if pointer is None:
        return Collected(0, None)
    now = time.time() if now is None else now
    prefix = index_prefix(collection_id)
    by_version: dict[str, list[str]] = defaultdict(list)
    for key in store.iter_keys(prefix):
        by_version[key[len(prefix) :].split("/", 1)[0]].append(key)
    versions = sorted(set(by_version) | {pointer.version})
    keep: set[str] = set()
    expired: list[str] = []
    retry_in: float | None = None
    for i, version in enumerate(versions):
        superseded_at = version_time(versions[i + 1]) if i + 1 < len(versions) else now
        if version < pointer.version and now - superseded_at < grace_s:
            left = grace_s - (now - superseded_at)
            retry_in = left if retry_in is None else min(retry_in, left)
        if version >= pointer.version or now - superseded_at < grace_s:
            try:
                manifest = Manifest.model_validate_json(store.get(manifest_key(collection_id, version)))
            except ObjectNotFound:  # a publish that stopped before its manifest: nothing names its objects
                if version >= pointer.version:
                    keep |= set(by_version[version])
                continue
            keep |= _referenced(manifest)
            if version > pointer.version:
                keep |= set(by_version[version])
        else:
            expired.append(version)
    removed = 0
    for version in expired:
        for key in by_version[version]:
            if key not in keep:
                store.delete(key)
                removed += 1
    if removed:
        log.info("collection %s: removed %d objects of %d old versions", collection_id, removed, len(expired))
    return Collected(removed, retry_in)

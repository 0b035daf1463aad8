"""Checkpoints kept in object storage, named `store:<prefix>` (or `s3:<prefix>`), and copied to a
local folder before a model is built from them: the encoder's `ENCODER_MODEL`, and the `--model`
of bulk embedding, whose actors each fetch their own copy on whatever machine they run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from pathlib import Path

from services.common.storage import ObjectStore

log = logging.getLogger(__name__)

STORE_SCHEMES = ("store:", "s3:")


class CheckpointError(Exception):
    """The checkpoint is missing, incomplete or does not match its recorded version."""


def store_prefix(source: str) -> str | None:
    """The storage prefix of a `store:`/`s3:` source, or None for a local one."""
    for scheme in STORE_SCHEMES:
        if source.startswith(scheme):
            return source.removeprefix(scheme).strip("/")
    return None


def cache_name(prefix: str) -> str:
    """The folder a checkpoint under `prefix` is copied to, inside a cache folder."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", prefix)


def fetch_checkpoint(store: ObjectStore, prefix: str, cache_dir: Path) -> Path:
    """Copy every object under `prefix` into `cache_dir` (reads verify each object's sha256).

    Each file is written under a name of its own, then renamed into place, so processes fetching
    the same checkpoint into the same folder at once (model actors on one machine) never see a
    file half written."""
    keys = store.list_keys(prefix + "/")
    if not keys:
        raise CheckpointError(f"no checkpoint under {prefix!r} in storage {store.name}")
    target = cache_dir / cache_name(prefix)
    for key in keys:
        path = target / key.removeprefix(prefix + "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
        try:
            tmp.write_bytes(store.get(key))
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    log.info("checkpoint %s copied from storage to %s (%d files)", prefix, target, len(keys))
    return target


def recorded_version(directory: Path) -> str | None:
    """The version a checkpoint folder's config.json records, if any."""
    config = directory / "config.json"
    if not config.is_file():
        return None
    version = json.loads(config.read_text(encoding="utf-8")).get("version")
    return str(version) if version else None

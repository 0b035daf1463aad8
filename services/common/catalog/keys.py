"""Where the catalog's objects live in storage, and what each image object carries as metadata.

The object metadata (collection, image id, sha256, filename, folder, upload time) is what
`python -m services.common.catalog rebuild` reads back: with the bytes themselves (EXIF,
dimensions) it is enough to restore every image record from storage alone.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

IMAGES_PREFIX = "images/"
COLLECTIONS_PREFIX = "collections/"
MAX_FILENAME = 255
MAX_FOLDER = 1024


def image_key(collection_id: str, image_id: str) -> str:
    return f"{IMAGES_PREFIX}{collection_id}/{image_id}"


def thumbnail_key(collection_id: str, image_id: str) -> str:
    return f"thumbs/{collection_id}/{image_id}.webp"


def collection_backup_key(collection_id: str) -> str:
    """A collection's name, owner and creation time, read only by a rebuild."""
    return f"{COLLECTIONS_PREFIX}{collection_id}.json"


def image_id_for(collection_id: str, sha256: str) -> str:
    """Deterministic: the same bytes in the same collection are always the same image."""
    return hashlib.sha256(f"{collection_id}:{sha256}".encode()).hexdigest()[:32]


def nfc(text: str) -> str:
    """Vietnamese text in one form (NFC), so `ả` typed or pasted compares equal."""
    return unicodedata.normalize("NFC", text)


def clean_filename(name: str | None) -> str:
    """The client's file name as display metadata only: its last path part, printable, NFC, bounded."""
    base = nfc(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return (base or "image")[:MAX_FILENAME]


def clean_folder(path: str | None) -> str | None:
    """The folder an image was imported from (`2023/Tết`), printable and NFC; None when there is none."""
    parts = [p for p in nfc(path or "").replace("\\", "/").split("/") if p and p != "."]
    text = "".join(ch for ch in "/".join(parts) if ch.isprintable()).strip()
    return text[:MAX_FOLDER] or None


@dataclass(frozen=True)
class ImageObjectMeta:
    """What an image's stored bytes say about it (S3 user metadata is ASCII: names are %-encoded)."""

    collection_id: str
    image_id: str
    sha256: str
    filename: str
    folder: str | None
    created_at: datetime

    def to_metadata(self) -> dict[str, str]:
        meta = {
            "collection-id": self.collection_id,
            "image-id": self.image_id,
            "sha256": self.sha256,
            "filename": quote(self.filename, safe=""),
            "uploaded-at": self.created_at.astimezone(UTC).isoformat(),
        }
        if self.folder:
            meta["folder"] = quote(self.folder, safe="")
        return meta

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> ImageObjectMeta | None:
        """None for an object written without the catalog's metadata."""
        try:
            return cls(
                collection_id=meta["collection-id"],
                image_id=meta["image-id"],
                sha256=meta["sha256"],
                filename=unquote(meta["filename"]),
                folder=unquote(meta["folder"]) if meta.get("folder") else None,
                created_at=datetime.fromisoformat(meta["uploaded-at"]),
            )
        except (KeyError, ValueError):
            return None

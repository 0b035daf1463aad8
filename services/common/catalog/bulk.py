"""Catalog rows written in bulk for images known by reference (a path or URL), not by their bytes.

An embeddings import (`python -m services.indexer.bulk_import`) brings vectors computed elsewhere
together with where each image lives; its rows are inserted here many at once, in one transaction
per call: the image rows, their keyword documents (filename and folder, so a word of a path finds
the image) and the collection's counter. A row already present is kept as it is (what people
added to it stays), so a rerun of the same import changes nothing.

Such an image has no bytes in storage: `size` is 0 and `sha256` is empty (its content was never
read), and its id comes from the collection and its reference (`referenced_image_id`). A catalog
rebuild reads stored bytes only, so it does not bring these rows back; the import, run again, does.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update

from services.common.catalog.engine import Sessions, upsert
from services.common.catalog.folding import keyword_document
from services.common.catalog.keys import clean_filename, clean_folder, image_id_for, nfc
from services.common.catalog.models import CollectionRow, ImageRow, ImageTextRow


def referenced_image_id(collection_id: str, reference: str) -> str:
    """Deterministic per collection and reference; never equal to an uploaded image's id (those
    hash the content), so the same picture uploaded later is a second image, not a merge."""
    digest = hashlib.sha256(f"ref:{nfc(reference)}".encode()).hexdigest()
    return image_id_for(collection_id, digest)


@dataclass(frozen=True)
class ReferencedImage:
    """One image of an embeddings import: where it lives and what its metadata said of it."""

    reference: str  # a path relative to the import's root, or a URL
    width: int = 0
    height: int = 0

    def row(self, collection_id: str, created_at: datetime) -> dict[str, object]:
        ref = nfc(self.reference).replace("\\", "/")
        path = ref.split("?", 1)[0].split("#", 1)[0]
        if "://" in path:
            path = path.split("://", 1)[1].split("/", 1)[-1]  # a URL's path, without its host
        folder, _, name = path.rpartition("/")
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return {
            "image_id": referenced_image_id(collection_id, self.reference),
            "collection_id": collection_id,
            "filename": clean_filename(name),
            "folder": clean_folder(folder),
            "width": max(0, int(self.width)),
            "height": max(0, int(self.height)),
            "content_type": content_type if content_type.startswith("image/") else "application/octet-stream",
            "size": 0,
            "sha256": "",
            "created_at": created_at,
        }


class BulkRecords:
    """Mixed into `Catalog`, which provides `sessions`."""

    sessions: Sessions

    def add_referenced_images(
        self, collection_id: str, images: Sequence[ReferencedImage], created_at: datetime | None = None
    ) -> list[str]:
        """Insert the rows missing among `images`; returns the ids of every image given, in order.

        One transaction: the rows, their keyword documents and the collection's counter move
        together. Raises IntegrityError when the collection does not exist.
        """
        moment = created_at or datetime.now(UTC)
        rows: dict[str, dict[str, object]] = {}
        folded: dict[str, str] = {}
        for image in images:
            row = image.row(collection_id, moment)
            iid = str(row["image_id"])
            if iid not in rows:
                rows[iid] = row
                folded[iid] = keyword_document([str(row["filename"]), str(row["folder"] or "")])
        ids = [referenced_image_id(collection_id, image.reference) for image in images]
        if not rows:
            return ids
        dialect = self.sessions.dialect
        pending = list(rows.values())
        # One statement compiled once, executed over every row ("insertmanyvalues": SQLAlchemy
        # sends them in multi-row batches and gathers RETURNING): 50,000 rows in about a second
        # here, where building one VALUES list per 2,000 rows took 20 s.
        insert_rows = (
            upsert(dialect, ImageRow)
            .on_conflict_do_nothing(index_elements=["image_id"])
            .returning(ImageRow.image_id)
        )
        insert_words = upsert(dialect, ImageTextRow).on_conflict_do_nothing(index_elements=["image_id"])
        with self.sessions.write() as s:
            added = list(s.execute(insert_rows, pending).scalars())
            if added:
                documents = [
                    {"image_id": iid, "collection_id": collection_id, "folded": folded[iid]} for iid in added
                ]
                s.execute(insert_words, documents)
                s.execute(
                    update(CollectionRow)
                    .where(CollectionRow.id == collection_id)
                    .values(image_count=CollectionRow.image_count + len(added))
                )
        return ids

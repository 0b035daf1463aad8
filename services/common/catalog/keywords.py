"""Keyword search over an image's words: OCR text, filename, folder, tags and note, accents folded.

Each image with any words has one `image_text` row whose `folded` column is its keyword document
(`folding.keyword_document`); it is rewritten in the transaction of every write that changes one
of its parts (`refresh_keywords`), and goes with its image by cascade. SQLite ranks with FTS5's
bm25, PostgreSQL with ts_rank over the 'simple' configuration; both match every query word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from imaging.ocr import OcrResult
from services.common.catalog.engine import Sessions, upsert
from services.common.catalog.folding import highlights, keyword_document, keyword_tokens, snippet
from services.common.catalog.models import ImageRow, ImageTextRow, TagRow
from services.common.catalog.records import ImageText, KeywordHit

MAX_OCR_TEXT = 20_000
_CHUNK = 500  # images a statement: far under either backend's limit on bound values

_COLUMNS = "t.image_id, t.collection_id, {score} AS score, t.ocr_text, i.note, i.filename, i.folder"
_PG_RANK = "ts_rank(to_tsvector('simple', t.folded), q.q)"
_SQLITE = (
    f"SELECT {_COLUMNS.format(score='-bm25(image_text_fts)')} FROM image_text_fts "
    "JOIN image_text t ON t.id = image_text_fts.rowid JOIN images i ON i.image_id = t.image_id "
    "WHERE image_text_fts MATCH :q {where} ORDER BY bm25(image_text_fts), t.image_id LIMIT :n"
)
_POSTGRES = (
    f"SELECT {_COLUMNS.format(score=_PG_RANK)} "
    "FROM image_text t JOIN images i ON i.image_id = t.image_id, to_tsquery('simple', :q) AS q(q) "
    "WHERE to_tsvector('simple', t.folded) @@ q.q {where} ORDER BY score DESC, t.image_id LIMIT :n"
)


_TAGS = select(TagRow.image_id, TagRow.tag).where(TagRow.image_id.in_(bindparam("ids", expanding=True)))


def _statement(sqlite: bool, in_collections: bool) -> TextClause:
    """The keyword query of a backend, within named collections or not."""
    where = "AND t.collection_id IN :cids" if in_collections else ""
    stmt = text((_SQLITE if sqlite else _POSTGRES).format(where=where))
    return stmt.bindparams(bindparam("cids", expanding=True)) if in_collections else stmt


# Built once: every text search of the gateway runs one.
_BOTH = (True, False)
_STATEMENTS = {(sqlite, scoped): _statement(sqlite, scoped) for sqlite in _BOTH for scoped in _BOTH}


def refresh_keywords(s: Session, dialect: str, image_id: str, ocr: dict[str, Any] | None = None) -> None:
    """Rewrite an image's keyword document from its row, tags and OCR text (`ocr`: new OCR columns)."""
    refresh_keywords_many(s, dialect, [image_id], {image_id: ocr} if ocr is not None else None)


def refresh_keywords_many(
    s: Session, dialect: str, image_ids: Iterable[str], ocr: Mapping[str, dict[str, Any]] | None = None
) -> set[str]:
    """`refresh_keywords` of many images in a few statements: their rows, tags and OCR text read
    in one query each, every keyword document written by one upsert. `ocr` holds new OCR columns
    (the same columns for every image); returns the ids that have a row."""
    ids = list(dict.fromkeys(image_ids))
    if len(ids) > _CHUNK:
        return {
            i
            for at in range(0, len(ids), _CHUNK)
            for i in refresh_keywords_many(s, dialect, ids[at : at + _CHUNK], ocr)
        }
    if not ids:
        return set()
    rows = {r.image_id: r for r in s.scalars(select(ImageRow).where(ImageRow.image_id.in_(ids)))}
    if not rows:
        return set()
    tags: dict[str, list[str]] = {}
    for image_id, tag in s.execute(
        select(TagRow.image_id, TagRow.tag)
        .where(TagRow.image_id.in_(rows))
        .order_by(TagRow.image_id, TagRow.tag)
    ):
        tags.setdefault(image_id, []).append(tag)
    known: dict[str, str | None] = {}
    if ocr is None or any(i not in ocr for i in rows):
        stmt = select(ImageTextRow.image_id, ImageTextRow.ocr_text).where(ImageTextRow.image_id.in_(rows))
        known = {image_id: text for image_id, text in s.execute(stmt)}
    values = []
    for image_id, row in rows.items():
        new_ocr = ocr.get(image_id) if ocr is not None else None
        text = new_ocr["ocr_text"] if new_ocr is not None else known.get(image_id)
        folded = keyword_document([text, row.filename, row.folder, *tags.get(image_id, ()), row.note])
        values.append(
            {"image_id": image_id, "collection_id": row.collection_id, "folded": folded, **(new_ocr or {})}
        )
    _upsert_documents(s, dialect, values)
    return set(rows)


def index_new_images(s: Session, dialect: str, rows: Iterable[Mapping[str, object]]) -> None:
    """The keyword documents of image rows this transaction inserted, from the rows alone: a new
    image has no tags, note or OCR text yet (an earlier image of the same id took its own with it)."""
    values = [
        {
            "image_id": row["image_id"],
            "collection_id": row["collection_id"],
            "folded": keyword_document(_texts(row.get("filename"), row.get("folder"), row.get("note"))),
        }
        for row in rows
    ]
    if values:
        _upsert_documents(s, dialect, values)


def _texts(*values: object) -> list[str | None]:
    return [None if v is None else str(v) for v in values]


def _upsert_documents(s: Session, dialect: str, values: list[dict[str, Any]]) -> None:
    """Upserts of `image_text` rows, `_CHUNK` a statement; every row must carry the same columns."""
    if len({tuple(sorted(v)) for v in values}) != 1:
        raise ValueError("keyword documents of one statement must carry the same columns")
    columns = [c for c in values[0] if c != "image_id"]
    for at in range(0, len(values), _CHUNK):
        stmt = upsert(dialect, ImageTextRow).values(values[at : at + _CHUNK])
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=["image_id"], set_={c: stmt.excluded[c] for c in columns}
            )
        )


class KeywordSearch:
    """OCR text and keyword search; mixed into `Catalog`, which provides `sessions`."""

    sessions: Sessions

    def set_image_text(self, image_id: str, result: OcrResult) -> bool:
        """Store what OCR read in an image (over an earlier reading); False when there is no such image."""
        return image_id in self.set_image_texts({image_id: result})

    def set_image_texts(self, results: Mapping[str, OcrResult]) -> set[str]:
        """What OCR read in many images, in one transaction; returns the ids stored (those that
        still have an image row)."""
        if not results:
            return set()
        now = datetime.now(UTC)
        ocr = {
            image_id: {
                "ocr_text": r.text[:MAX_OCR_TEXT],
                "ocr_confidence": r.confidence,
                "ocr_engine": r.engine,
                "ocr_at": now,
            }
            for image_id, r in results.items()
        }
        with self.sessions.write() as s:
            return refresh_keywords_many(s, self.sessions.dialect, list(ocr), ocr)

    def get_image_text(self, image_id: str) -> ImageText | None:
        """What OCR read in an image; None when it has not been read."""
        return self.get_image_texts([image_id]).get(image_id)

    def get_image_texts(self, image_ids: Iterable[str]) -> dict[str, ImageText]:
        """What OCR read in each of these images, in one query; images not read are left out."""
        ids = list(dict.fromkeys(image_ids))
        if not ids:
            return {}
        with self.sessions.read() as s:
            rows = list(s.scalars(select(ImageTextRow).where(ImageTextRow.image_id.in_(ids))))
        return {
            row.image_id: ImageText(
                image_id=row.image_id,
                text=row.ocr_text or "",
                confidence=row.ocr_confidence or 0.0,
                engine=row.ocr_engine,
                ocr_at=row.ocr_at,
            )
            for row in rows
            if row.ocr_engine is not None and row.ocr_at is not None
        }

    def keyword_search(
        self,
        query: str,
        collection_ids: list[str] | None = None,
        limit: int = 20,
        match: Literal["all", "any"] = "all",
    ) -> list[KeywordHit]:
        """Images holding every word of `query` (`match="any"`: at least one, ranked by how many
        and how rare), accents, case and đ/d folded, best first; within `collection_ids` when given
        (an empty list finds nothing)."""
        tokens = keyword_tokens(query)
        if not tokens or collection_ids == []:
            return []
        sqlite = self.sessions.dialect == "sqlite"
        params: dict[str, Any] = {
            "q": (" OR " if match == "any" else " ").join(f'"{t}"' for t in tokens)
            if sqlite
            else (" | " if match == "any" else " & ").join(tokens),
            "n": limit,
        }
        if collection_ids is not None:
            params["cids"] = list(collection_ids)
        with self.sessions.connection() as conn:
            rows = list(conn.execute(_STATEMENTS[sqlite, collection_ids is not None], params))
            if not rows:  # most new queries hold no word of any image: one statement, no tag read
                return []
            tags: dict[str, list[str]] = {}
            for image_id, tag in conn.execute(_TAGS, {"ids": [r.image_id for r in rows]}):
                tags.setdefault(image_id, []).append(tag)
        wanted = set(tokens)
        hits = []
        for r in rows:
            cut = snippet([r.ocr_text, r.note, *tags.get(r.image_id, []), r.filename, r.folder], wanted)
            hits.append(
                KeywordHit(
                    image_id=r.image_id,
                    collection_id=r.collection_id,
                    score=float(r.score),
                    snippet=cut,
                    highlights=highlights(cut, wanted),
                )
            )
        return hits

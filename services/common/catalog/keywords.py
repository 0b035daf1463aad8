"""Keyword search over an image's words: OCR text, filename, folder, tags and note, accents folded.

Each image with any words has one `image_text` row whose `folded` column is its keyword document
(`folding.keyword_document`); it is rewritten in the transaction of every write that changes one
of its parts (`refresh_keywords`), and goes with its image by cascade. SQLite ranks with FTS5's
bm25, PostgreSQL with ts_rank over the 'simple' configuration; both match every query word.
"""

from __future__ import annotations

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
    row = s.get(ImageRow, image_id)
    if row is None:
        return
    tags = list(s.scalars(select(TagRow.tag).where(TagRow.image_id == image_id).order_by(TagRow.tag)))
    ocr_text = (
        ocr["ocr_text"]
        if ocr is not None
        else s.scalar(select(ImageTextRow.ocr_text).where(ImageTextRow.image_id == image_id))
    )
    values = {
        "folded": keyword_document([ocr_text, row.filename, row.folder, *tags, row.note]),
        **(ocr or {}),
    }
    stmt = upsert(dialect, ImageTextRow).values(image_id=image_id, collection_id=row.collection_id, **values)
    s.execute(stmt.on_conflict_do_update(index_elements=["image_id"], set_=values))


class KeywordSearch:
    """OCR text and keyword search; mixed into `Catalog`, which provides `sessions`."""

    sessions: Sessions

    def set_image_text(self, image_id: str, result: OcrResult) -> bool:
        """Store what OCR read in an image (over an earlier reading); False when there is no such image."""
        ocr = {
            "ocr_text": result.text[:MAX_OCR_TEXT],
            "ocr_confidence": result.confidence,
            "ocr_engine": result.engine,
            "ocr_at": datetime.now(UTC),
        }
        with self.sessions.write() as s:
            if s.get(ImageRow, image_id) is None:
                return False
            refresh_keywords(s, self.sessions.dialect, image_id, ocr)
        return True

    def get_image_text(self, image_id: str) -> ImageText | None:
        """What OCR read in an image; None when it has not been read."""
        with self.sessions.read() as s:
            row = s.scalar(select(ImageTextRow).where(ImageTextRow.image_id == image_id))
        if row is None or row.ocr_engine is None or row.ocr_at is None:
            return None
        return ImageText(
            image_id=image_id,
            text=row.ocr_text or "",
            confidence=row.ocr_confidence or 0.0,
            engine=row.ocr_engine,
            ocr_at=row.ocr_at,
        )

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

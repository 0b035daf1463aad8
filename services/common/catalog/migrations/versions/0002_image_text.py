"""Words in pictures: per-image OCR text and a keyword index over it, the filename, folder, tags and note

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: an external-content FTS5 table over image_text.folded, kept by triggers (a cascade from a
# deleted image or collection fires them too). The text is folded already, so the tokenizer only splits.
SQLITE_UP = (
    "CREATE VIRTUAL TABLE image_text_fts USING fts5("
    "folded, content='image_text', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER image_text_fts_ai AFTER INSERT ON image_text BEGIN "
    "INSERT INTO image_text_fts(rowid, folded) VALUES (new.id, new.folded); END",
    "CREATE TRIGGER image_text_fts_ad AFTER DELETE ON image_text BEGIN "
    "INSERT INTO image_text_fts(image_text_fts, rowid, folded) VALUES ('delete', old.id, old.folded); END",
    "CREATE TRIGGER image_text_fts_au AFTER UPDATE OF folded ON image_text BEGIN "
    "INSERT INTO image_text_fts(image_text_fts, rowid, folded) VALUES ('delete', old.id, old.folded); "
    "INSERT INTO image_text_fts(rowid, folded) VALUES (new.id, new.folded); END",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS image_text_fts_au",
    "DROP TRIGGER IF EXISTS image_text_fts_ad",
    "DROP TRIGGER IF EXISTS image_text_fts_ai",
    "DROP TABLE IF EXISTS image_text_fts",
)
# PostgreSQL: the 'simple' configuration (no stemming, no stop words: the words are folded Vietnamese).
POSTGRES_UP = (
    "CREATE INDEX ix_image_text_folded_tsv ON image_text USING gin (to_tsvector('simple', folded))",
)
POSTGRES_DOWN = ("DROP INDEX IF EXISTS ix_image_text_folded_tsv",)


def upgrade() -> None:
    op.create_table(
        "image_text",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_id", sa.String(length=64), nullable=False),
        sa.Column("collection_id", sa.String(length=64), nullable=False),
        sa.Column("ocr_text", sa.Text(), nullable=True),
        sa.Column("ocr_confidence", sa.Float(), nullable=True),
        sa.Column("ocr_engine", sa.String(length=64), nullable=True),
        sa.Column("ocr_at", sa.DateTime(), nullable=True),
        sa.Column("folded", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.image_id"], name=op.f("fk_image_text_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_text")),
        sa.UniqueConstraint("image_id", name=op.f("uq_image_text_image_id")),
    )
    op.create_index(op.f("ix_image_text_collection_id"), "image_text", ["collection_id"], unique=False)
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_index(op.f("ix_image_text_collection_id"), table_name="image_text")
    op.drop_table("image_text")

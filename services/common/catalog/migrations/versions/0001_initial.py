"""The catalog: collections, images, albums, tags

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("image_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
    )
    op.create_index(op.f("ix_collections_created_at_id"), "collections", ["created_at", "id"], unique=False)
    op.create_index(
        op.f("ix_collections_owner_created_at_id"), "collections", ["owner", "created_at", "id"], unique=False
    )
    op.create_table(
        "albums",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("collection_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_albums_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_albums")),
    )
    op.create_index(
        op.f("ix_albums_collection_id_created_at_id"),
        "albums",
        ["collection_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "images",
        sa.Column("image_id", sa.String(length=64), nullable=False),
        sa.Column("collection_id", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("folder", sa.String(length=1024), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("taken_tz_offset_min", sa.Integer(), nullable=True),
        sa.Column("camera_make", sa.String(length=200), nullable=True),
        sa.Column("camera_model", sa.String(length=200), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("orientation", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_images_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", name=op.f("pk_images")),
    )
    op.create_index(
        op.f("ix_images_collection_id_camera_make"), "images", ["collection_id", "camera_make"], unique=False
    )
    op.create_index(
        op.f("ix_images_collection_id_camera_model"),
        "images",
        ["collection_id", "camera_model"],
        unique=False,
    )
    op.create_index(
        op.f("ix_images_collection_id_created_at_image_id"),
        "images",
        ["collection_id", "created_at", "image_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_images_collection_id_latitude"), "images", ["collection_id", "latitude"], unique=False
    )
    op.create_index(
        op.f("ix_images_collection_id_taken_at_image_id"),
        "images",
        ["collection_id", "taken_at", "image_id"],
        unique=False,
    )
    op.create_table(
        "album_images",
        sa.Column("album_id", sa.String(length=64), nullable=False),
        sa.Column("image_id", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name=op.f("fk_album_images_album_id_albums"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.image_id"],
            name=op.f("fk_album_images_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("album_id", "image_id", name=op.f("pk_album_images")),
    )
    op.create_index(op.f("ix_album_images_image_id"), "album_images", ["image_id"], unique=False)
    op.create_table(
        "image_tags",
        sa.Column("image_id", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.image_id"], name=op.f("fk_image_tags_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("image_id", "tag", name=op.f("pk_image_tags")),
    )
    op.create_index(op.f("ix_image_tags_tag_image_id"), "image_tags", ["tag", "image_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_image_tags_tag_image_id"), table_name="image_tags")
    op.drop_table("image_tags")
    op.drop_index(op.f("ix_album_images_image_id"), table_name="album_images")
    op.drop_table("album_images")
    op.drop_index(op.f("ix_images_collection_id_taken_at_image_id"), table_name="images")
    op.drop_index(op.f("ix_images_collection_id_latitude"), table_name="images")
    op.drop_index(op.f("ix_images_collection_id_created_at_image_id"), table_name="images")
    op.drop_index(op.f("ix_images_collection_id_camera_model"), table_name="images")
    op.drop_index(op.f("ix_images_collection_id_camera_make"), table_name="images")
    op.drop_table("images")
    op.drop_index(op.f("ix_albums_collection_id_created_at_id"), table_name="albums")
    op.drop_table("albums")
    op.drop_index(op.f("ix_collections_owner_created_at_id"), table_name="collections")
    op.drop_index(op.f("ix_collections_created_at_id"), table_name="collections")
    op.drop_table("collections")

"""Which catalogued images a caller means: typed filter fields, validated at the edge, never SQL text."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

MAX_TAG = 100


def clean_text(value: str | None) -> str | None:
    """NFC, one space between words; None when nothing is left."""
    if value is None:
        return None
    text = " ".join(unicodedata.normalize("NFC", value).split())
    return text or None


def normalize_tag(value: str) -> str | None:
    """Tags compare as people read them: NFC, single spaces, lower case (`Tết` and `tết` are one tag)."""
    text = clean_text(value)
    return text.lower()[:MAX_TAG] if text else None


class ImageFilter(BaseModel):
    """Every field narrows the match (AND); an absent field does not filter.

    `taken_after`/`taken_before` compare with the date taken as the catalog keeps it: UTC when
    the file states its time zone, the camera's wall clock otherwise (a naive bound is read the
    same way; an aware one is converted to UTC).
    """

    collection_ids: list[str] | None = Field(
        None, max_length=1000, description="Only these collections (the caller's visible ones when absent)"
    )
    taken_after: datetime | None = Field(None, description="Taken at or after this time")
    taken_before: datetime | None = Field(None, description="Taken before this time")
    camera: str | None = Field(
        None, max_length=200, description="Camera model, exactly as the photos state it (`EOS R6`)"
    )
    camera_make: str | None = Field(None, max_length=200, description="Camera maker (`Canon`), exactly")
    album_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    tag: str | None = Field(None, max_length=MAX_TAG, description="Has this tag")
    filename_contains: str | None = Field(
        None, max_length=255, description="The filename contains this text (case-insensitive)"
    )
    has_location: bool | None = Field(None, description="Has (true) or lacks (false) GPS coordinates")

    @field_validator("collection_ids")
    @classmethod
    def _ids(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for item in value:
                if not item or len(item) > 64 or not all(c.isalnum() or c in "-_" for c in item):
                    raise ValueError("collection ids are 1-64 letters, digits, `-` or `_`")
        return value

    @field_validator("camera", "camera_make", "filename_contains")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return clean_text(value)

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        return normalize_tag(value) if value is not None else None

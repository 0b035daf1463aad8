"""What the catalog hands its callers: plain pydantic values, detached from any database session."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class CollectionRecord(BaseModel):
    id: str
    name: str
    created_at: datetime
    owner: str | None = None  # the id of the API key that created it; None: shared with every key


class ImageRecord(BaseModel):
    image_id: str
    collection_id: str
    filename: str
    folder: str | None = None  # where an import found it (`2023/Tết`); None for an upload
    width: int
    height: int
    content_type: str
    size: int
    sha256: str
    created_at: datetime  # when it was uploaded or imported
    # Naive when the file gives no time zone (the camera's wall clock), else UTC.
    taken_at: datetime | None = None
    taken_tz_offset_min: int | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    orientation: int | None = None
    note: str | None = None


class AlbumRef(BaseModel):
    id: str
    name: str


class ImageDetail(ImageRecord):
    """An image with what people added to it: its albums and tags."""

    albums: list[AlbumRef] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class AlbumRecord(BaseModel):
    id: str
    collection_id: str
    name: str
    created_at: datetime
    image_count: int = 0


class TagCount(BaseModel):
    tag: str
    count: int


class CameraCount(BaseModel):
    make: str | None
    model: str | None
    count: int


class Page(BaseModel, Generic[T]):
    """One page of a listing and the cursor of the next (None: this was the last)."""

    items: list[T]
    next_cursor: str | None = None


class ImageText(BaseModel):
    """What OCR read in an image, and with which engine when."""

    image_id: str
    text: str
    confidence: float  # mean word confidence, 0-100
    engine: str
    ocr_at: datetime


class KeywordHit(BaseModel):
    """An image whose words hold every query word: its score (higher is better, comparable within one
    answer only) and a snippet of the text that matched, with its accents."""

    image_id: str
    collection_id: str
    score: float
    snippet: str
    highlights: list[tuple[int, int]] = []  # [start, end) of the matched words in `snippet`

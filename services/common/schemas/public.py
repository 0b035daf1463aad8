"""The gateway's public API (`/api/v1`): every request and response body."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from services.common.errors import ErrorDetail
from services.common.hybrid import DEFAULT_KEYWORD_WEIGHT, DEFAULT_RRF_K, MAX_EXCLUDE
from services.common.schemas.catalog import ImageFilter
from services.common.schemas.indexer import JobItemError, JobState

MAX_QUERY_CHARS = 500
MAX_TOP_K = 200
MAX_OFFSET = 1000
# The deepest rank a page can reach: every page of one query is cut from one candidate list this long.
MAX_DEPTH = MAX_OFFSET + MAX_TOP_K
Score = Annotated[float, Field(ge=-1.0, le=1.0)]
MinScore = Annotated[
    Score | Literal["auto"] | None,
    Field(
        description=(
            "Drop results scoring below this cosine; `auto`: below the serving model's calibrated "
            "relevance threshold (keeps everything when the model has no calibration, and for image "
            "queries)"
        ),
        examples=["auto", 0.3],
    ),
]
ID_PATTERN = r"^[A-Za-z0-9_-]+$"
# A date taken is in UTC (`2023-07-14T03:20:30Z`) when the file stated its zone (then
# `taken_tz_offset_min` is set), else the camera's wall clock, which has no zone to give
# (`2023-07-14T10:20:30`). So its schema is an ISO 8601 string, not RFC 3339's `date-time`, which
# requires an offset.
TakenAt = Annotated[
    datetime | None,
    WithJsonSchema({"anyOf": [{"type": "string", "examples": ["2023-07-14T03:20:30"]}, {"type": "null"}]}),
]
SearchOrder = Literal["relevance", "taken_at"]
OrderField = Annotated[
    SearchOrder,
    Field(
        description=(
            "`relevance`: best score first. `taken_at`: the same results (ranked by relevance, the "
            "`offset`..`offset + top_k` window of those that pass `min_score`), then sorted by date "
            "taken, newest first, undated last; paging walks the relevance ranking"
        )
    ),
]
FiltersField = Annotated[
    ImageFilter | None,
    Field(
        description=(
            "Search only the images matching every field; results are those an exact search over "
            "the matching images ranks first, `top_k` of them whenever that many match. "
            "`collection_ids` must be collections the key sees (404 otherwise)"
        )
    ),
]


class CollectionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Ảnh du lịch Đà Lạt"])
    shared: bool = Field(
        False, description="Visible to every API key instead of only the key creating it (admin keys only)"
    )


class Collection(BaseModel):
    id: str
    name: str
    image_count: int
    created_at: datetime
    shared: bool = Field(description="Visible to every API key; only admin keys may change it")
    writable: bool = Field(description="Whether the calling key may upload into it and delete it")


Role = Literal["read", "write", "admin"]
Permission = Literal[
    "search", "read", "create", "upload", "edit", "delete", "import", "all_collections", "manage_models"
]


class Identity(BaseModel):
    """What the calling API key may do."""

    role: Role
    key_id: str = Field(description="The key's public id (a hash); collections it creates record it")
    auth_required: bool = Field(description="Whether the gateway requires API keys at all")
    permissions: list[Permission]


class CollectionList(BaseModel):
    items: list[Collection]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )


class UploadedImage(BaseModel):
    image_id: str
    filename: str


class RejectedFile(BaseModel):
    filename: str
    error: ErrorDetail


class UploadResult(BaseModel):
    job_id: str | None = Field(description="Indexing job of the accepted images; null when none")
    accepted: list[UploadedImage]
    rejected: list[RejectedFile]
    duplicates: list[UploadedImage]


class ImportRequest(BaseModel):
    source: str = Field(
        min_length=1,
        max_length=1024,
        description="`s3://bucket/prefix` or a folder under one of the server's allowed import roots",
        examples=["s3://photos/2024/"],
    )


class JobAccepted(BaseModel):
    job_id: str


class Job(BaseModel):
    job_id: str
    collection_id: str
    status: JobState
    total: int
    done: int
    failed: int
    errors: list[JobItemError]


class Location(BaseModel):
    latitude: float = Field(description="Degrees, south negative")
    longitude: float = Field(description="Degrees, west negative")


class AlbumRef(BaseModel):
    id: str
    name: str


class Image(BaseModel):
    image_id: str
    collection_id: str
    filename: str
    folder: str | None = Field(None, description="The folder an import found it in; null for an upload")
    width: int
    height: int
    content_type: str
    size: int = Field(description="Bytes of the original file")
    created_at: datetime = Field(description="When it was uploaded or imported")
    taken_at: TakenAt = Field(
        None,
        description="When the photo was taken (EXIF): in UTC when the file states its time zone, else "
        "the camera's local time without a zone; null when the file does not say",
    )
    taken_tz_offset_min: int | None = Field(
        None, description="The camera's offset from UTC in minutes, when the file states it"
    )
    camera_make: str | None = None
    camera_model: str | None = None
    location: Location | None = Field(None, description="Where it was taken (EXIF GPS)")
    orientation: int | None = Field(None, description="EXIF orientation 1-8 of the stored bytes")
    note: str | None = None
    albums: list[AlbumRef] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    url: str
    thumbnail_url: str


ImageOrder = Literal["taken_at", "uploaded"]
SortDirection = Literal["asc", "desc"]


class ImagePage(BaseModel):
    items: list[Image]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )


MAX_TAGS_PER_CALL = 100
Tag = Annotated[str, Field(min_length=1, max_length=100, examples=["tết 2024"])]


class ImageUpdate(BaseModel):
    """Fields left out stay as they are."""

    note: str | None = Field(None, max_length=10_000, description="The new note; null or blank removes it")
    add_tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS_PER_CALL)
    remove_tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS_PER_CALL)


class TagCount(BaseModel):
    tag: str
    count: int = Field(description="Images of the collection carrying it")


class TagList(BaseModel):
    items: list[TagCount]


class CameraCount(BaseModel):
    make: str | None = Field(description="The maker the photos state (`camera_make` filter); null when none")
    model: str | None = Field(description="The model the photos state (`camera` filter); null when none")
    count: int = Field(description="Images of the collection taken with it")


class CameraList(BaseModel):
    items: list[CameraCount] = Field(description="Most used first; photos that name no camera are left out")


class AlbumCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Tết ở Huế"])


class Album(BaseModel):
    id: str
    collection_id: str
    name: str
    created_at: datetime
    image_count: int


class AlbumList(BaseModel):
    items: list[Album]


class AlbumImages(BaseModel):
    image_ids: list[Annotated[str, Field(max_length=64, pattern=ID_PATTERN)]] = Field(
        min_length=1, max_length=500
    )


class AlbumImagesAdded(BaseModel):
    album: Album
    not_in_collection: list[str] = Field(description="Ids left out: no such image in the album's collection")


SearchMode = Literal["dense", "keyword", "hybrid"]
MatchedBy = Literal["image", "text"]
Phrase = Annotated[str, Field(min_length=1, max_length=200)]


class Fusion(BaseModel):
    """How hybrid search fuses its two rankings (reciprocal rank fusion): each adds
    `weight / (k + rank)` for every image it ranks; the image ranking's weight is 1."""

    k: int = Field(DEFAULT_RRF_K, ge=1, le=1000, description="Larger flattens the difference ranks make")
    keyword_weight: float = Field(
        DEFAULT_KEYWORD_WEIGHT, ge=0.0, le=10.0, description="Weight of the keyword ranking"
    )


class SearchQuery(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description=(
            "A Vietnamese description; accents optional. What to leave out may be typed in it: "
            '"không có X", "trừ X", "-X" (see `exclude`)'
        ),
        examples=["một cậu bé đang chơi quần vợt", "ảnh bãi biển, không có người"],
    )
    collection_id: str | None = Field(
        None, max_length=64, pattern=ID_PATTERN, description="Search one collection; all when absent"
    )
    top_k: int = Field(20, ge=1, le=MAX_TOP_K)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    min_score: MinScore = None
    filters: FiltersField = None
    order: OrderField = "relevance"
    mode: SearchMode = Field(
        "hybrid",
        description=(
            "`dense`: the picture's meaning only. `keyword`: the words in and about the image (OCR "
            "text, filename, folder, tags, note; accents folded). `hybrid`: both rankings fused"
        ),
    )
    exclude: list[Phrase] = Field(
        default_factory=list,
        max_length=MAX_EXCLUDE,
        description=(
            "Phrases to leave out, besides those typed in `query`: an image is left out when the "
            "model may match it with one (a score at the model's exclusion threshold, where 5% of "
            "non-matching pairs score) or its words hold every word of one"
        ),
        examples=[["người"]],
    )
    fusion: Fusion | None = Field(None, description="Hybrid's fusion parameters; defaults when absent")


class Region(BaseModel):
    """A box over the picture as shown (EXIF orientation applied), in fractions of its size."""

    x: float = Field(ge=0.0, lt=1.0)
    y: float = Field(ge=0.0, lt=1.0)
    width: float = Field(gt=0.0, le=1.0)
    height: float = Field(gt=0.0, le=1.0)


class RefineWeights(BaseModel):
    """Rocchio's weights: query·`query` + `positive`·mean(positives) − `negative`·mean(negatives)."""

    query: float = Field(1.0, ge=0.0, le=10.0)
    positive: float = Field(0.75, ge=0.0, le=10.0)
    negative: float = Field(0.5, ge=0.0, le=10.0)


class RefineQuery(BaseModel):
    positive_ids: list[Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]] = Field(
        default_factory=list, max_length=20, description='Images to find more like ("thêm ảnh như thế này")'
    )
    negative_ids: list[Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]] = Field(
        default_factory=list, max_length=20, description='Images to find fewer like ("bớt ảnh như thế này")'
    )
    query: str | None = Field(
        None, min_length=1, max_length=MAX_QUERY_CHARS, description="The text being refined, if any"
    )
    weights: RefineWeights = Field(default_factory=RefineWeights)
    collection_id: str | None = Field(None, max_length=64, pattern=ID_PATTERN)
    top_k: int = Field(20, ge=1, le=MAX_TOP_K)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    min_score: MinScore = None
    filters: FiltersField = None
    order: OrderField = "relevance"


class SimilarByImageId(BaseModel):
    image_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    collection_id: str | None = Field(None, max_length=64, pattern=ID_PATTERN)
    top_k: int = Field(20, ge=1, le=MAX_TOP_K)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    min_score: MinScore = None
    filters: FiltersField = None
    order: OrderField = "relevance"
    region: Region | None = Field(None, description="Search by this part of the image only")


Match = Literal["strong", "weak"]
# Why a page has no results: nothing is indexed in the collections searched; `min_score: "auto"`
# removed every candidate (no result reaches the model's relevance threshold); a numeric
# `min_score` removed every candidate; the offset lies past the last candidate; `filters` matched
# no image of the collections searched; in `keyword` mode, no image's words match the query.
EmptyReason = Literal[
    "nothing_indexed",
    "no_strong_match",
    "below_min_score",
    "past_the_end",
    "filter_matched_nothing",
    "no_text_match",
]


class TextMatch(BaseModel):
    snippet: str = Field(description="The matching text around the matched words, with its accents")
    highlights: list[tuple[int, int]] = Field(
        description="[start, end) character offsets of the matched words in `snippet`"
    )


class SearchResult(BaseModel):
    image_id: str
    collection_id: str
    score: float
    match: Match | None = Field(
        description="`strong` at or above the relevance threshold, else `weak`; null when none applies"
    )
    filename: str
    url: str
    thumbnail_url: str
    width: int = Field(description="Pixels, as stored (before any EXIF orientation)")
    height: int
    taken_at: TakenAt = Field(
        None,
        description="When the photo was taken (EXIF): UTC when the file states its time zone, else the "
        "camera's local time without a zone; null when the file does not say",
    )
    taken_tz_offset_min: int | None = Field(
        None, description="The camera's offset from UTC in minutes, when the file states it"
    )
    camera_make: str | None = None
    camera_model: str | None = None
    latitude: float | None = Field(None, description="Degrees, south negative (EXIF GPS)")
    longitude: float | None = Field(None, description="Degrees, west negative (EXIF GPS)")
    albums: list[AlbumRef] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    matched: list[MatchedBy] = Field(
        default_factory=list,
        description=(
            "Why it is here: `image` when the model scores the picture a strong match (any score "
            "when the model has no calibration), `text` when its words match the query"
        ),
    )
    text_match: TextMatch | None = Field(None, description="The words that matched, for `text`")


class SearchResponse(BaseModel):
    results: list[SearchResult]
    total_candidates: int = Field(
        description="Vectors the replicas searched over; under `filters`, the matching images indexed"
    )
    took_ms: float
    cached: bool
    model_version: str
    index_version: str
    partial: bool
    relevance_threshold: float | None = Field(
        description=(
            "The cosine that separates strong from weak matches for this query, from the serving "
            "model's calibration; null when the model has none (pretrained backends) or the query "
            "is an image (image-to-image scores follow another distribution)"
        )
    )
    calibrated: bool = Field(description="Whether the serving model carries a relevance calibration")
    best_score: float | None = Field(
        description="Score of the best candidate before `min_score`; null when none"
    )
    empty_reason: EmptyReason | None = Field(
        description="Why `results` is empty (null when it is not), so a client can say so"
    )
    mode: SearchMode = Field("dense", description="How the results were ranked")
    searched: str | None = Field(
        None, description="The text searched for, once what to leave out is taken from it"
    )
    excluded: list[str] = Field(
        default_factory=list, description="The phrases left out: typed in the query, then `exclude`"
    )


class Status(BaseModel):
    status: Literal["ok"]

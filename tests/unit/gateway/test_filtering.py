"""A search filter resolved in a real catalog (both backends), the cameras of a collection, date order
of a page, replica error codes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.engine import by_date_taken
from gateway.fanout import _code
from gateway.filtering import NOTHING, UNFILTERED, narrows, resolve
from services.common.catalog import Catalog
from services.common.schemas.catalog import ImageFilter
from services.common.schemas.public import SearchResult
from services.common.storage.local import LocalObjectStore
from tests.support.catalogs import catalog_with
from tests.support.photos import camera_photo

A, B = f"a{uuid.uuid4().hex[:8]}", f"b{uuid.uuid4().hex[:8]}"  # a PostgreSQL database serves every test


@pytest.fixture
def catalog(tmp_path: Path, catalog_url: str) -> Iterator[Catalog]:
    """Collections A (ten photos, the even ones by a Canon EOS R6, two of the odd by an iPhone) and B
    (two photos, no camera)."""
    made = catalog_with(LocalObjectStore(tmp_path / "store"), catalog_url, A, B)
    for i in range(10):
        make, model = ("Canon", "EOS R6") if i % 2 == 0 else (None, "iPhone 13") if i < 5 else (None, None)
        made.store_image(A, f"{i}.jpg", camera_photo(i, make=make, model=model))
    for i in range(10, 12):
        made.store_image(B, f"{i}.jpg", camera_photo(i))
    try:
        yield made
    finally:
        made.delete_collection(A)
        made.delete_collection(B)
        made.sessions.dispose()


def test_only_fields_beyond_the_collections_narrow() -> None:
    assert not narrows(None)
    assert not narrows(ImageFilter())
    assert not narrows(ImageFilter(collection_ids=[A]))
    assert narrows(ImageFilter(camera_make="Canon"))
    assert narrows(ImageFilter(has_location=False))


def test_a_filter_becomes_chunks_of_its_sorted_ids_keyed_by_them(catalog: Catalog) -> None:
    canon = ImageFilter(camera_make="Canon")
    allowed = asyncio.run(resolve(catalog, canon, [A, B], chunk=2))
    # within the two collections: a session's PostgreSQL database also holds other tests' photos
    ids = catalog.matching_ids(canon.model_copy(update={"collection_ids": [A, B]}))
    assert allowed.chunks == [ids[0:2], ids[2:4], ids[4:5]] and len(ids) == 5
    again = asyncio.run(resolve(catalog, canon, [A], chunk=2))
    assert again.key == allowed.key
    catalog.add_tags(ids[0], ["x"])  # a tag does not change what the camera filter matches
    assert asyncio.run(resolve(catalog, canon, [A], chunk=2)).key == allowed.key
    tagged = asyncio.run(resolve(catalog, ImageFilter(tag="x"), [A, B]))
    assert tagged.chunks == [[ids[0]]]
    catalog.add_tags(ids[1], ["x"])
    assert asyncio.run(resolve(catalog, ImageFilter(tag="x"), [A, B])).key != tagged.key


def test_no_match_and_a_filter_that_keeps_everything_ask_for_no_list(catalog: Catalog) -> None:
    assert asyncio.run(resolve(catalog, ImageFilter(camera_make="Nikon"), [A, B])) == NOTHING
    assert asyncio.run(resolve(catalog, ImageFilter(camera_make="Canon"), [B])) == NOTHING
    assert asyncio.run(resolve(catalog, ImageFilter(camera_make="Canon"), [])) == NOTHING
    assert asyncio.run(resolve(catalog, ImageFilter(has_location=False), [A, B])) == UNFILTERED
    assert asyncio.run(resolve(catalog, ImageFilter(collection_ids=[B]), [A])) == UNFILTERED
    assert NOTHING.nothing and not UNFILTERED.nothing


def test_a_collections_cameras_most_used_first(catalog: Catalog) -> None:
    cameras = [(c.make, c.model, c.count) for c in catalog.collection_cameras(A)]
    assert cameras == [("Canon", "EOS R6", 5), (None, "iPhone 13", 2)]
    assert catalog.collection_cameras(B) == []


def _result(image_id: str, taken_at: datetime | None) -> SearchResult:
    return SearchResult(
        image_id=image_id,
        collection_id="a",
        score=0.5,
        match=None,
        filename=f"{image_id}.jpg",
        url="/u",
        thumbnail_url="/t",
        width=1,
        height=1,
        taken_at=taken_at,
    )


def test_date_order_is_newest_first_undated_last_ties_in_relevance_order() -> None:
    july, may = datetime(2023, 7, 1), datetime(2023, 5, 1)
    page = [
        _result("u1", None),
        _result("m", may),
        _result("j1", july),
        _result("u2", None),
        _result("z", datetime(2023, 6, 1, tzinfo=UTC)),  # a file that stated its zone: aware, in UTC
        _result("j2", july),
    ]
    assert [r.image_id for r in by_date_taken(page)] == ["j1", "j2", "z", "m", "u1", "u2"]


def test_a_replicas_own_error_code_passes_through() -> None:
    assert _code({"error": {"code": "filter_unsupported", "message": "m"}}) == "filter_unsupported"
    assert _code({"code": "too_many_ids"}) == "too_many_ids"
    assert _code("plain text") == "search_error"

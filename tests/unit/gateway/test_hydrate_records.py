"""Result pages reuse image records only under the search epoch they were read under."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event

from gateway.app import open_resources
from gateway.hydrate import Hydrator
from gateway.resources import Resources
from gateway.settings import GatewaySettings
from services.common.schemas.search import Hit
from services.common.settings import CatalogSettings, StorageSettings
from tests.support.bad_images import encode, photo


async def _resources(tmp_path: Path, catalog_url: str, **tuning: int) -> Resources:
    settings = GatewaySettings(
        storage=StorageSettings(backend="local", local_root=tmp_path),
        catalog=CatalogSettings(url=catalog_url),
        **tuning,
    )
    return await open_resources(settings)


@pytest.fixture
async def resources(tmp_path: Path, catalog_url: str) -> AsyncIterator[Resources]:
    res = await _resources(tmp_path, catalog_url)
    try:
        yield res
    finally:
        await res.aclose()


def _page(res: Resources, count: int) -> list[Hit]:
    catalog = res.catalog
    collection = catalog.create_collection("trang kết quả")
    files = [(f"ảnh-{i}.png", encode(photo(seed=i), "PNG")) for i in range(count)]
    stored = [catalog.store_image(collection.id, name, data)[0] for name, data in files]
    return [Hit(image_id=r.image_id, collection_id=collection.id, score=0.5) for r in stored]


def _selects(res: Resources) -> list[str]:
    seen: list[str] = []
    event.listen(res.catalog.sessions.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def _count(seen: list[str]) -> int:
    return len([q for q in seen if q.lstrip().upper().startswith("SELECT")])


async def test_a_page_read_under_the_current_epoch_costs_no_query(resources: Resources) -> None:
    hits = _page(resources, 20)
    hydrator = Hydrator(resources)
    seen = _selects(resources)
    first = await hydrator.results(hits, None, b"epoch-1")
    again = await hydrator.results(hits, None, b"epoch-1")
    assert _count(seen) == 1
    assert [r.model_dump() for r in again] == [r.model_dump() for r in first]
    # Half the page known, half new: one query, for the new half only, in the page's order.
    more = _page(resources, 10)
    mixed = hits[:10] + more
    seen.clear()
    results = await hydrator.results(mixed, None, b"epoch-1")
    assert _count(seen) == 1 and [r.image_id for r in results] == [h.image_id for h in mixed]


async def test_an_edit_shows_once_the_epoch_moves_on(resources: Resources) -> None:
    hits = _page(resources, 3)
    hydrator = Hydrator(resources)
    await hydrator.results(hits, None, b"epoch-1")
    resources.catalog.add_tags(hits[0].image_id, ["Tết"])
    # Every catalog edit through the API bumps the epoch (gateway/answers.py); under the old one the
    # record read before the edit is what the page was answered with.
    assert (await hydrator.results(hits, None, b"epoch-1"))[0].tags == []
    assert (await hydrator.results(hits, None, b"epoch-2"))[0].tags == ["tết"]
    gone = resources.catalog.get_image(hits[1].image_id)
    assert gone is not None
    resources.catalog.delete_image(gone)
    left = await hydrator.results(hits, None, b"epoch-3")
    assert [r.image_id for r in left] == [hits[0].image_id, hits[2].image_id]


async def test_without_an_epoch_every_page_is_read(resources: Resources) -> None:
    hits = _page(resources, 5)
    hydrator = Hydrator(resources)
    seen = _selects(resources)
    for _ in range(3):
        await hydrator.results(hits, None)
    assert _count(seen) == 3


async def test_reuse_can_be_turned_off(tmp_path: Path, catalog_url: str) -> None:
    res = await _resources(tmp_path, catalog_url, record_cache_entries=0)
    try:
        hits = _page(res, 5)
        hydrator = Hydrator(res)
        seen = _selects(res)
        for _ in range(2):
            await hydrator.results(hits, None, b"epoch-1")
        assert _count(seen) == 2
    finally:
        await res.aclose()

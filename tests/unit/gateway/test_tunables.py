"""What a deployment may tune is read from the gateway's settings: the cache's circuit breaker (against
a Redis that is not there) and the catalog database it opens; a result page costs one catalog query."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from deploy.stack import free_port
from gateway.app import open_resources
from gateway.hydrate import Hydrator
from gateway.settings import GatewaySettings
from services.common.schemas.search import Hit
from services.common.settings import CatalogSettings, StorageSettings
from tests.support.bad_images import encode, photo


async def _calls_until_open(tmp_path: Path, **tuning: float) -> tuple[int, float]:
    settings = GatewaySettings(
        storage=StorageSettings(backend="local", local_root=tmp_path),
        catalog=CatalogSettings(url=f"sqlite:///{tmp_path / 'catalog.db'}"),
        cache_redis_url=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        **tuning,
    )
    resources = await open_resources(settings)
    try:
        guarded = resources.guarded_cache
        calls = 0
        while not guarded.is_open and calls < 10:
            await guarded.get("k")
            calls += 1
        return calls, guarded.open_for_s
    finally:
        await resources.aclose()


async def test_the_breaker_opens_after_the_configured_failures(tmp_path: Path) -> None:
    assert await _calls_until_open(tmp_path) == (3, 5.0)
    assert await _calls_until_open(tmp_path, cache_failure_threshold=1, cache_open_s=30) == (1, 30.0)


async def test_a_result_page_is_hydrated_in_one_catalog_query(tmp_path: Path, catalog_url: str) -> None:
    settings = GatewaySettings(
        storage=StorageSettings(backend="local", local_root=tmp_path),
        catalog=CatalogSettings(url=catalog_url),
    )
    resources = await open_resources(settings)
    try:
        catalog = resources.catalog
        collection = catalog.create_collection("records")
        stored = [
            catalog.store_image(collection.id, f"{i}.png", encode(photo(seed=i), "PNG"))[0] for i in range(20)
        ]
        hits = [Hit(image_id=r.image_id, collection_id=collection.id, score=0.5) for r in stored]
        first, second = stored[0].image_id, stored[1].image_id
        catalog.add_tags(first, ["tết", "biển"])
        late, early = catalog.create_album(collection.id, "Zô"), catalog.create_album(collection.id, "Ảnh")
        catalog.add_to_album(late.id, [first, second])
        catalog.add_to_album(early.id, [first])
        seen: list[str] = []
        event.listen(catalog.sessions.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
        results = await Hydrator(resources).results(
            [*hits, Hit(image_id="gone", collection_id="x", score=0.1)], None
        )
        assert [r.filename for r in results] == [f"{i}.png" for i in range(20)]
        assert len([q for q in seen if q.lstrip().upper().startswith("SELECT")]) == 1
        assert results[0].tags == ["biển", "tết"] and results[1].tags == [] and results[2].albums == []
        assert [a.name for a in results[0].albums] == sorted(["Zô", "Ảnh"]) and len(results[1].albums) == 1
    finally:
        await resources.aclose()

"""Filtered search through the running gateway at 1,000 indexed camera photos: a filter returns what
exact search over the matching images ranks first, `top_k` of them whenever that many match; date
order, albums and tags, the cache after a tag edit, what a key may filter on, and bad filters. Then a
stack of its own that cuts allow-lists into small chunks, to merge many requests on two replicas."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from deploy.harness.api import wait_job
from deploy.harness.fullstack import RunningStack, full_stack
from tests.integration.gateway.conftest import API_KEY, ROLE_KEYS
from tests.support.photos import camera_photo

PHOTOS = 1000
BATCH = 200
QUERY = "một hình tròn màu đỏ"
CAMERAS = [("Canon", "EOS R6"), ("Apple", "iPhone 13"), ("Fujifilm", "X-T4"), (None, None)]
MONTH = {"taken_after": "2023-07-01T00:00:00", "taken_before": "2023-08-01T00:00:00"}


def _exif(i: int) -> dict[str, Any]:
    """Photo `i`: one of twelve months of 2023 (every 25th undated; every fifth states its zone, UTC,
    so its date comes back aware), one of four cameras."""
    make, model = CAMERAS[i % len(CAMERAS)]
    taken = (
        None if i % 25 == 0 else f"2023:{i % 12 + 1:02d}:{i // 12 % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}:00"
    )
    return {"taken": taken, "offset": "+00:00" if i % 5 == 0 else None, "make": make, "model": model}


def _when(taken: str) -> datetime:
    """A result's date taken as the catalog compares it: UTC (naive) when it carries a zone."""
    moment = datetime.fromisoformat(taken)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _month_of(i: int) -> int | None:
    return None if i % 25 == 0 else i % 12 + 1


@pytest.fixture(scope="module")
def clients(system: RunningStack) -> Iterator[dict[str, httpx.Client]]:
    made = {
        name: httpx.Client(base_url=system.gateway, headers={"X-API-Key": key}, timeout=120)
        for name, key in {"admin": API_KEY, **ROLE_KEYS}.items()
    }
    yield made
    for client in made.values():
        client.close()


def _load(client: httpx.Client, photos: int) -> tuple[str, dict[str, int]]:
    """A new collection of `photos` indexed photos; returns its id and image id -> photo number."""
    cid = client.post("/api/v1/collections", json={"name": "Thư viện ảnh 2023"}).json()["id"]
    numbers: dict[str, int] = {}
    for start in range(0, photos, BATCH):
        files = [
            ("files", (f"anh-{i:04d}.jpg", camera_photo(i, **_exif(i)), "image/jpeg"))
            for i in range(start, min(photos, start + BATCH))
        ]
        resp = client.post(f"/api/v1/collections/{cid}/images", files=files)
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert len(body["accepted"]) == len(files), body
        assert wait_job(client, body["job_id"])["status"] == "done"
        numbers.update({a["image_id"]: int(a["filename"][4:8]) for a in body["accepted"]})
    return cid, numbers


@pytest.fixture(scope="module")
def library(clients: dict[str, httpx.Client]) -> tuple[str, dict[str, int]]:
    """The write key's collection of 1,000 indexed photos."""
    return _load(clients["write"], PHOTOS)


def _search(client: httpx.Client, **body: Any) -> dict[str, Any]:
    resp = client.post("/api/v1/search", json={"query": QUERY, **body})
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


def _ranking(client: httpx.Client, cid: str, numbers: dict[str, int]) -> list[tuple[str, float]]:
    """Exact search over the whole collection (Flat shards): every photo, best first, page by page."""
    ranked: list[tuple[str, float]] = []
    for offset in range(0, len(numbers), 200):
        page = _search(client, collection_id=cid, top_k=200, offset=offset)
        ranked += [(r["image_id"], r["score"]) for r in page["results"]]
    assert sorted(i for i, _ in ranked) == sorted(numbers)
    return ranked


@pytest.fixture(scope="module")
def ranking(clients: dict[str, httpx.Client], library: tuple[str, dict[str, int]]) -> list[tuple[str, float]]:
    return _ranking(clients["write"], *library)


def _same_ranking(got: list[dict[str, Any]], expected: list[tuple[str, float]]) -> None:
    """The ids of `expected` in its order, save for swaps between scores equal to float rounding."""
    assert [r["score"] for r in got] == pytest.approx([s for _, s in expected], abs=1e-5)
    for r, (image_id, score) in zip(got, expected, strict=True):
        if r["image_id"] != image_id:
            assert abs(r["score"] - score) < 1e-5, (r, image_id, score)
    assert {r["image_id"] for r in got} == {i for i, _ in expected} or abs(
        got[-1]["score"] - expected[-1][1]
    ) < 1e-5


def test_a_month_returns_what_exact_search_ranks_first_among_that_months_photos(
    clients: dict[str, httpx.Client], library: tuple[str, dict[str, int]], ranking: list[tuple[str, float]]
) -> None:
    cid, numbers = library
    july = [(i, s) for i, s in ranking if _month_of(numbers[i]) == 7]
    assert 60 < len(july) < 100
    first = _search(clients["write"], collection_id=cid, top_k=50, filters=MONTH)
    assert len(first["results"]) == 50 and first["empty_reason"] is None
    _same_ranking(first["results"], july[:50])
    assert first["total_candidates"] == len(july)
    rest = _search(clients["write"], collection_id=cid, top_k=50, offset=50, filters=MONTH)
    _same_ranking(rest["results"], july[50:])
    hit = first["results"][0]
    number = numbers[hit["image_id"]]
    assert datetime.fromisoformat(hit["taken_at"]).month == 7
    assert (hit["camera_make"], hit["camera_model"]) == CAMERAS[number % len(CAMERAS)]
    assert (hit["width"], hit["height"]) == (48, 32) and hit["albums"] == [] and hit["tags"] == []
    # The same filter over every collection the key sees (`collection_ids` or none at all).
    everywhere = _search(clients["write"], top_k=50, filters={**MONTH, "collection_ids": [cid]})
    assert [r["image_id"] for r in everywhere["results"]] == [r["image_id"] for r in first["results"]]


def test_date_order_sorts_the_matches_above_the_cut_off(
    clients: dict[str, httpx.Client], library: tuple[str, dict[str, int]]
) -> None:
    cid, _ = library
    by_score = _search(clients["write"], collection_id=cid, top_k=30, filters=MONTH)["results"]
    by_date = _search(clients["write"], collection_id=cid, top_k=30, filters=MONTH, order="taken_at")[
        "results"
    ]
    assert {r["image_id"] for r in by_date} == {r["image_id"] for r in by_score}
    dates = [_when(r["taken_at"]) for r in by_date]
    assert dates == sorted(dates, reverse=True)
    assert any(r["taken_tz_offset_min"] == 0 for r in by_date) and any(
        r["taken_tz_offset_min"] is None for r in by_date
    )
    unfiltered = _search(clients["write"], collection_id=cid, top_k=200, order="taken_at")["results"]
    dated = [_when(r["taken_at"]) for r in unfiltered if r["taken_at"] is not None]
    assert 0 < len(dated) < len(unfiltered) and dated == sorted(dated, reverse=True)
    assert all(r["taken_at"] is None for r in unfiltered[len(dated) :])  # undated last


def test_camera_and_album_filters_and_the_cameras_route(
    clients: dict[str, httpx.Client], library: tuple[str, dict[str, int]], ranking: list[tuple[str, float]]
) -> None:
    cid, numbers = library
    writer = clients["write"]
    cameras = writer.get(f"/api/v1/collections/{cid}/cameras").json()["items"]
    assert {(c["make"], c["model"]): c["count"] for c in cameras} == {cam: PHOTOS // 4 for cam in CAMERAS[:3]}
    fuji = _search(writer, collection_id=cid, top_k=20, filters={"camera": "X-T4", **MONTH})
    expected = [(i, s) for i, s in ranking if numbers[i] % 4 == 2 and _month_of(numbers[i]) == 7]
    _same_ranking(fuji["results"], expected[:20])

    album = writer.post(f"/api/v1/collections/{cid}/albums", json={"name": "Hè 2023"}).json()
    members = [i for i, _ in ranking[::37]]
    added = writer.post(f"/api/v1/collections/{cid}/albums/{album['id']}/images", json={"image_ids": members})
    assert added.status_code == 200, added.text
    page = _search(writer, collection_id=cid, top_k=200, filters={"album_id": album["id"]})
    _same_ranking(page["results"], [(i, s) for i, s in ranking if i in set(members)])
    assert all(r["albums"] == [{"id": album["id"], "name": "Hè 2023"}] for r in page["results"])


def test_a_tag_edit_is_searched_at_once_not_served_from_the_cache(
    clients: dict[str, httpx.Client], library: tuple[str, dict[str, int]], ranking: list[tuple[str, float]]
) -> None:
    cid, _ = library
    writer = clients["write"]
    tagged = [i for i, _ in ranking[5:15]]
    for image_id in tagged:
        assert writer.patch(f"/api/v1/images/{image_id}", json={"add_tags": ["Biển"]}).status_code == 200
    query = {"collection_id": cid, "top_k": 20, "filters": {"tag": "biển"}}
    first = _search(writer, **query)
    assert [r["image_id"] for r in first["results"]] == tagged and first["cached"] is False
    assert all(r["tags"] == ["biển"] for r in first["results"])
    assert _search(writer, **query)["cached"] is True
    newcomer = ranking[0][0]
    assert writer.patch(f"/api/v1/images/{newcomer}", json={"add_tags": ["biển"]}).status_code == 200
    after = _search(writer, **query)
    assert [r["image_id"] for r in after["results"]] == [newcomer, *tagged] and after["cached"] is False
    assert writer.patch(f"/api/v1/images/{tagged[0]}", json={"remove_tags": ["biển"]}).status_code == 200
    assert [r["image_id"] for r in _search(writer, **query)["results"]] == [newcomer, *tagged[1:]]


def test_image_queries_take_filters_too(
    clients: dict[str, httpx.Client], library: tuple[str, dict[str, int]]
) -> None:
    cid, numbers = library
    source = next(i for i, n in numbers.items() if _month_of(n) == 7)
    body = {"image_id": source, "collection_id": cid, "top_k": 100, "filters": MONTH}
    resp = clients["write"].post("/api/v1/search/image", json=body)
    assert resp.status_code == 200, resp.text
    ids = [r["image_id"] for r in resp.json()["results"]]
    assert source not in ids and len(ids) == sum(1 for n in numbers.values() if _month_of(n) == 7) - 1
    upload = clients["write"].post(
        "/api/v1/search/image",
        files={"file": ("q.jpg", camera_photo(5), "image/jpeg")},
        data={
            "collection_id": cid,
            "top_k": "10",
            "filters": '{"camera_make": "Canon"}',
            "order": "taken_at",
        },
    )
    assert upload.status_code == 200, upload.text
    results = upload.json()["results"]
    assert len(results) == 10 and all(r["camera_make"] == "Canon" for r in results)
    dates = [_when(r["taken_at"]) for r in results]
    assert dates == sorted(dates, reverse=True)


def test_a_filter_matching_nothing_says_so(
    clients: dict[str, httpx.Client], library: tuple[str, dict[str, int]]
) -> None:
    cid, _ = library
    for filters in ({"camera": "Không có máy này"}, {"taken_before": "2000-01-01T00:00:00"}):
        body = _search(clients["write"], collection_id=cid, filters=filters)
        assert body["results"] == [] and body["empty_reason"] == "filter_matched_nothing"
    other = clients["write"].post("/api/v1/collections", json={"name": "Khác"}).json()["id"]
    body = _search(clients["write"], collection_id=cid, filters={"collection_ids": [other]})
    assert body["results"] == [] and body["empty_reason"] == "filter_matched_nothing"


def test_filters_name_only_collections_the_key_sees(
    clients: dict[str, httpx.Client], library: tuple[str, dict[str, int]]
) -> None:
    cid, _ = library
    for name in ("write-2", "read"):
        resp = clients[name].post(
            "/api/v1/search", json={"query": QUERY, "filters": {"collection_ids": [cid]}}
        )
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "collection_not_found", resp.text
    missing = clients["admin"].post(
        "/api/v1/search", json={"query": QUERY, "filters": {"collection_ids": ["nope"]}}
    )
    assert missing.status_code == 404
    # Searching all it sees, another key finds none of the collection's photos under any filter.
    mine = clients["write-2"].post("/api/v1/search", json={"query": QUERY, "filters": MONTH}).json()
    assert all(r["collection_id"] != cid for r in mine["results"])


@pytest.mark.parametrize(
    "filters",
    [
        {"taken_after": "tháng bảy"},
        {"album_id": "không hợp lệ!"},
        {"collection_ids": ["a b"]},
        {"has_location": "maybe"},
        {"tag": "x" * 101},
        "camera=Canon",
    ],
)
def test_bad_filters_are_422(clients: dict[str, httpx.Client], filters: object) -> None:
    resp = clients["write"].post("/api/v1/search", json={"query": QUERY, "filters": filters})
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "invalid_request"


def test_bad_order_and_form_filters_are_422(clients: dict[str, httpx.Client]) -> None:
    resp = clients["write"].post("/api/v1/search", json={"query": QUERY, "order": "newest"})
    assert resp.status_code == 422
    form = clients["write"].post(
        "/api/v1/search/image",
        files={"file": ("q.jpg", camera_photo(1), "image/jpeg")},
        data={"filters": "{not json"},
    )
    assert form.status_code == 422 and form.json()["error"]["code"] == "invalid_request"


CHUNK = 40


@pytest.fixture(scope="module")
def chunked(s3_endpoint: str, private_redis: tuple[str, object]) -> Iterator[httpx.Client]:
    """A stack of its own: two replicas of one shard each, allow-lists cut into chunks of 40 ids."""
    env = {
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": f"chunks-{uuid.uuid4().hex[:12]}",
        "REDIS_URL": private_redis[0].rsplit("/", 1)[0] + "/8",
        "GATEWAY_API_KEYS": API_KEY,
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000",
        "GATEWAY_FILTER_CHUNK_IDS": str(CHUNK),
    }
    with (
        full_stack(env, search_shards=[[0], [1]], shard_count=2) as running,
        httpx.Client(base_url=running.gateway, headers={"X-API-Key": API_KEY}, timeout=120) as client,
    ):
        yield client


def test_an_allow_list_in_many_chunks_merges_to_exact_search(chunked: httpx.Client) -> None:
    cid, numbers = _load(chunked, 300)
    ranking = _ranking(chunked, cid, numbers)
    summer = {"taken_after": "2023-04-01T00:00:00", "taken_before": "2023-10-01T00:00:00"}
    expected = [(i, s) for i, s in ranking if (_month_of(numbers[i]) or 0) in range(4, 10)]
    assert len(expected) > 3 * CHUNK
    for offset in (0, 100):
        page = _search(chunked, collection_id=cid, top_k=100, offset=offset, filters=summer)
        _same_ranking(page["results"], expected[offset : offset + 100])
        assert page["total_candidates"] == len(expected) and page["partial"] is False

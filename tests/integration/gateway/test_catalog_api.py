"""The catalog through the public API: collections by cursor, a collection browsed by date, the
metadata of an image, albums, tags and notes, each with its roles and its errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from deploy.harness.fullstack import RunningStack
from tests.integration.gateway.conftest import API_KEY, ROLE_KEYS
from tests.support.photos import PhotoExif, camera_photo

PHOTOS: list[tuple[str, PhotoExif]] = [
    (
        "Đà Lạt – hồ.jpg",
        {
            "taken": "2023:07:14 10:20:30",
            "offset": "+07:00",
            "make": "Canon",
            "model": "EOS R6",
            "gps": (11.94, 108.44),
        },
    ),
    ("chợ đêm.jpg", {"taken": "2023:07:15 21:00:00", "model": "iPhone 13"}),
    ("không ngày.jpg", {}),
    ("sáng sớm.jpg", {"taken": "2023:07:15 05:30:00", "model": "iPhone 13"}),
]


@pytest.fixture(scope="module")
def clients(system: RunningStack) -> Iterator[dict[str, httpx.Client]]:
    made = {
        name: httpx.Client(base_url=system.gateway, headers={"X-API-Key": key}, timeout=60)
        for name, key in {"admin": API_KEY, **ROLE_KEYS}.items()
    }
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(scope="module")
def trip(clients: dict[str, httpx.Client]) -> tuple[str, dict[str, str]]:
    """The write key's collection of camera photos; returns its id and filename -> image id."""
    writer = clients["write"]
    cid = writer.post("/api/v1/collections", json={"name": "Chuyến đi Đà Lạt"}).json()["id"]
    files = [("files", (name, camera_photo(i, **kw), "image/jpeg")) for i, (name, kw) in enumerate(PHOTOS)]
    resp = writer.post(f"/api/v1/collections/{cid}/images", files=files)
    assert resp.status_code == 202, resp.text
    return cid, {a["filename"]: a["image_id"] for a in resp.json()["accepted"]}


def walk(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        resp = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_collections_come_a_page_at_a_time(clients: dict[str, httpx.Client]) -> None:
    admin, reader = clients["admin"], clients["read"]
    made = [
        admin.post("/api/v1/collections", json={"name": f"Trang {i}", "shared": True}).json()
        for i in range(3)
    ]
    first = admin.get("/api/v1/collections", params={"limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    listed = walk(admin, "/api/v1/collections", limit=2)
    assert [c["id"] for c in listed if c["id"] in {m["id"] for m in made}] == [m["id"] for m in made]
    assert len({c["id"] for c in listed}) == len(listed)
    assert {m["id"] for m in made} <= {c["id"] for c in walk(reader, "/api/v1/collections", limit=2)}
    bad = admin.get("/api/v1/collections", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"


def test_a_collection_browses_by_date_taken_then_by_upload(
    clients: dict[str, httpx.Client], trip: tuple[str, dict[str, str]]
) -> None:
    cid, ids = trip
    reader = clients["write"]
    by_date = walk(reader, f"/api/v1/collections/{cid}/images", limit=2)
    assert [i["filename"] for i in by_date] == [
        "chợ đêm.jpg",
        "sáng sớm.jpg",
        "Đà Lạt – hồ.jpg",
        "không ngày.jpg",
    ]
    oldest = walk(reader, f"/api/v1/collections/{cid}/images", direction="asc", limit=3)
    assert [i["filename"] for i in oldest][:3] == ["Đà Lạt – hồ.jpg", "sáng sớm.jpg", "chợ đêm.jpg"]
    uploaded = walk(reader, f"/api/v1/collections/{cid}/images", order="uploaded", limit=3)
    assert {i["image_id"] for i in uploaded} == set(ids.values())
    wrong = reader.get(f"/api/v1/collections/{cid}/images", params={"order": "taken_at", "cursor": "x"})
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "invalid_cursor"
    assert reader.get(f"/api/v1/collections/{cid}/images", params={"order": "name"}).status_code == 422
    assert clients["write-2"].get(f"/api/v1/collections/{cid}/images").status_code == 404


def test_an_image_shows_its_metadata(
    clients: dict[str, httpx.Client], trip: tuple[str, dict[str, str]]
) -> None:
    _, ids = trip
    body = clients["write"].get(f"/api/v1/images/{ids['Đà Lạt – hồ.jpg']}").json()
    assert body["taken_at"].startswith("2023-07-14T03:20:30") and body["taken_tz_offset_min"] == 420
    assert (body["camera_make"], body["camera_model"]) == ("Canon", "EOS R6")
    assert body["location"] == {
        "latitude": pytest.approx(11.94, abs=1e-4),
        "longitude": pytest.approx(108.44, abs=1e-4),
    }
    assert (body["width"], body["height"], body["content_type"]) == (48, 32, "image/jpeg") and body[
        "size"
    ] > 0
    assert body["albums"] == [] and body["tags"] == [] and body["note"] is None
    undated = clients["write"].get(f"/api/v1/images/{ids['không ngày.jpg']}").json()
    assert undated["taken_at"] is None and undated["location"] is None


def test_albums_tags_and_notes_are_edited_by_the_owner(
    clients: dict[str, httpx.Client], trip: tuple[str, dict[str, str]]
) -> None:
    cid, ids = trip
    writer, reader, other = clients["write"], clients["read"], clients["write-2"]
    albums = f"/api/v1/collections/{cid}/albums"
    created = writer.post(albums, json={"name": "Ho\u0302\u0300 Xuân Hương"})  # decomposed "Hồ"
    assert created.status_code == 201, created.text
    album = created.json()
    assert album["name"] == "Hồ Xuân Hương" and album["image_count"] == 0
    add = writer.post(f"{albums}/{album['id']}/images", json={"image_ids": [ids["chợ đêm.jpg"], "f" * 32]})
    assert add.status_code == 200, add.text
    assert add.json()["album"]["image_count"] == 1 and add.json()["not_in_collection"] == ["f" * 32]
    assert [a["name"] for a in writer.get(albums).json()["items"]] == ["Hồ Xuân Hương"]
    image = writer.get(f"/api/v1/images/{ids['chợ đêm.jpg']}").json()
    assert image["albums"] == [{"id": album["id"], "name": "Hồ Xuân Hương"}]

    patched = writer.patch(
        f"/api/v1/images/{ids['chợ đêm.jpg']}",
        json={"note": "Ăn bánh tráng nướng", "add_tags": ["Ẩm thực", "đêm"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["note"] == "Ăn bánh tráng nướng" and patched.json()["tags"] == ["đêm", "ẩm thực"]
    kept = writer.patch(f"/api/v1/images/{ids['chợ đêm.jpg']}", json={"remove_tags": ["ĐÊM"]}).json()
    assert kept["tags"] == ["ẩm thực"] and kept["note"] == "Ăn bánh tráng nướng"  # a left-out note stays
    assert writer.get(f"/api/v1/collections/{cid}/tags").json()["items"] == [{"tag": "ẩm thực", "count": 1}]
    cleared = writer.patch(f"/api/v1/images/{ids['chợ đêm.jpg']}", json={"note": None}).json()
    assert cleared["note"] is None

    for resp in (
        reader.post(albums, json={"name": "x"}),
        reader.patch(f"/api/v1/images/{ids['chợ đêm.jpg']}", json={"note": "x"}),
    ):
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "forbidden"
    assert other.post(albums, json={"name": "x"}).status_code == 404  # another key's collection
    assert other.patch(f"/api/v1/images/{ids['chợ đêm.jpg']}", json={"note": "x"}).status_code == 404

    gone = writer.delete(f"{albums}/{album['id']}/images/{ids['sáng sớm.jpg']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "image_not_in_album"
    assert writer.delete(f"{albums}/{album['id']}/images/{ids['chợ đêm.jpg']}").status_code == 204
    assert writer.delete(f"{albums}/{album['id']}").status_code == 204
    missing = writer.get(f"{albums}/{album['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "album_not_found"
    assert writer.get(f"/api/v1/images/{ids['chợ đêm.jpg']}").json()["albums"] == []

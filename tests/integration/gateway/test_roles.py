"""API keys with roles: read, write (its own collections), admin (everything)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from deploy.harness.api import accepted_upload as upload
from deploy.harness.api import wait_job
from deploy.harness.fullstack import RunningStack, ShapeImage
from tests.integration.gateway.conftest import API_KEY, ROLE_KEYS


def _client(system: RunningStack, key: str) -> httpx.Client:
    return httpx.Client(base_url=system.gateway, headers={"X-API-Key": key}, timeout=60)


@pytest.fixture(scope="module")
def keys(system: RunningStack) -> Iterator[dict[str, httpx.Client]]:
    clients = {name: _client(system, key) for name, key in {"admin": API_KEY, **ROLE_KEYS}.items()}
    yield clients
    for client in clients.values():
        client.close()


@dataclass(frozen=True)
class Owned:
    mine: str  # the write key's collection, 4 images indexed
    shared: str  # an admin's collection shared with every key
    private: str  # an admin's own collection
    image_id: str  # in `mine`
    job_id: str  # that indexed `mine`
    caption: str  # of that image


@pytest.fixture(scope="module")
def owned(keys: dict[str, httpx.Client], images: list[ShapeImage]) -> Owned:
    writer, admin = keys["write"], keys["admin"]
    mine = writer.post("/api/v1/collections", json={"name": "Của khóa ghi"})
    assert mine.status_code == 201, mine.text
    body = upload(writer, mine.json()["id"], [i.path for i in images[40:44]])
    assert wait_job(writer, str(body["job_id"]))["status"] == "done"
    shared = admin.post("/api/v1/collections", json={"name": "Dùng chung", "shared": True}).json()
    private = admin.post("/api/v1/collections", json={"name": "Riêng của admin"}).json()
    accepted = body["accepted"]
    assert isinstance(accepted, list)
    by_name = {i.path.name: i for i in images}
    return Owned(
        mine=mine.json()["id"],
        shared=shared["id"],
        private=private["id"],
        image_id=accepted[0]["image_id"],
        job_id=str(body["job_id"]),
        caption=by_name[accepted[0]["filename"]].caption,
    )


@pytest.mark.parametrize(
    ("name", "role", "may"),
    [
        ("read", "read", {"search", "read"}),
        ("write", "write", {"search", "read", "create", "upload", "edit", "delete"}),
        (
            "admin",
            "admin",
            {"search", "read", "create", "upload", "edit", "delete", "import", "all_collections"}
            | {"manage_models"},
        ),
    ],
)
def test_me_says_what_the_key_may_do(
    keys: dict[str, httpx.Client], name: str, role: str, may: set[str]
) -> None:
    me = keys[name].get("/api/v1/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["role"] == role and set(body["permissions"]) == may and body["auth_required"] is True
    assert body["key_id"].startswith("key:") and API_KEY not in body["key_id"]


def test_read_key_reads_and_searches_but_changes_nothing(keys: dict[str, httpx.Client], owned: Owned) -> None:
    reader = keys["read"]
    assert reader.get(f"/api/v1/collections/{owned.shared}").status_code == 200
    found = reader.post("/api/v1/search", json={"query": "hình tròn", "collection_id": owned.shared})
    assert found.status_code == 200, found.text
    png = ("files", ("a.png", b"x", "image/png"))
    refused = [
        reader.delete(f"/api/v1/collections/{owned.shared}"),
        reader.delete(f"/api/v1/collections/{owned.mine}"),  # 403 whether or not it sees it
        reader.delete(f"/api/v1/images/{owned.image_id}"),
        reader.post("/api/v1/collections", json={"name": "không được"}),
        reader.post(f"/api/v1/collections/{owned.shared}/images", files=[png]),
        reader.post(f"/api/v1/collections/{owned.shared}/import", json={"source": "s3://bucket/x/"}),
    ]
    for resp in refused:
        assert resp.status_code == 403, resp.text
        error = resp.json()["error"]
        assert error["code"] == "forbidden" and error["details"]["role"] == "read"
    assert keys["admin"].get(f"/api/v1/collections/{owned.shared}").status_code == 200  # still there


def test_write_key_sees_nothing_of_another_keys_collection(
    keys: dict[str, httpx.Client], owned: Owned
) -> None:
    other = keys["write-2"]
    cid, image_id = owned.mine, owned.image_id
    answers = {
        "get": other.get(f"/api/v1/collections/{cid}"),
        "delete": other.delete(f"/api/v1/collections/{cid}"),
        "upload": other.post(
            f"/api/v1/collections/{cid}/images", files=[("files", ("a.png", b"x", "image/png"))]
        ),
        "search": other.post("/api/v1/search", json={"query": "hình", "collection_id": cid}),
        "image": other.get(f"/api/v1/images/{image_id}"),
        "content": other.get(f"/api/v1/images/{image_id}/content"),
        "delete image": other.delete(f"/api/v1/images/{image_id}"),
        "similar": other.post("/api/v1/search/image", json={"image_id": image_id}),
        "job": other.get(f"/api/v1/jobs/{owned.job_id}"),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    listed = {c["id"] for c in other.get("/api/v1/collections").json()["items"]}
    assert cid not in listed and owned.shared in listed
    assert keys["write"].get(f"/api/v1/images/{image_id}").status_code == 200  # nothing was deleted


def test_write_key_changes_only_its_own_collections(
    keys: dict[str, httpx.Client], owned: Owned, images: list[ShapeImage]
) -> None:
    writer = keys["write"]
    flags = {c["id"]: c["writable"] for c in writer.get("/api/v1/collections").json()["items"]}
    assert flags[owned.mine] is True and flags[owned.shared] is False
    png = ("files", ("a.png", images[50].path.read_bytes(), "image/png"))
    for resp in (
        writer.post(f"/api/v1/collections/{owned.shared}/images", files=[png]),
        writer.delete(f"/api/v1/collections/{owned.shared}"),
    ):
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "not_owner", resp.text
    assert writer.post("/api/v1/collections", json={"name": "chung", "shared": True}).status_code == 403
    imported = writer.post(f"/api/v1/collections/{owned.mine}/import", json={"source": "/srv/photos"})
    assert imported.status_code == 403
    scratch = writer.post("/api/v1/collections", json={"name": "Nháp"}).json()
    assert scratch["writable"] is True and scratch["shared"] is False
    assert writer.delete(f"/api/v1/collections/{scratch['id']}").status_code == 204


def test_search_over_all_covers_only_the_collections_a_key_sees(
    keys: dict[str, httpx.Client], owned: Owned
) -> None:
    query = {"query": owned.caption, "top_k": 50}
    own = keys["write"].post("/api/v1/search", json=query)
    assert own.status_code == 200, own.text
    assert owned.mine in {r["collection_id"] for r in own.json()["results"]}
    for name in ("write-2", "read"):
        resp = keys[name].post("/api/v1/search", json=query)
        assert resp.status_code == 200, resp.text
        assert owned.mine not in {r["collection_id"] for r in resp.json()["results"]}, name
    admin = keys["admin"].post("/api/v1/search", json=query).json()
    assert owned.mine in {r["collection_id"] for r in admin["results"]}


def test_admin_sees_and_changes_every_collection(keys: dict[str, httpx.Client], owned: Owned) -> None:
    admin = keys["admin"]
    listed = {c["id"]: c for c in admin.get("/api/v1/collections").json()["items"]}
    assert all(listed[cid]["writable"] for cid in (owned.mine, owned.shared, owned.private))
    assert listed[owned.shared]["shared"] is True and listed[owned.private]["shared"] is False
    for name in ("write", "read"):
        assert keys[name].get(f"/api/v1/collections/{owned.private}").status_code == 404
    assert admin.get(f"/api/v1/jobs/{owned.job_id}").status_code == 200
    assert admin.get(f"/api/v1/images/{owned.image_id}").status_code == 200

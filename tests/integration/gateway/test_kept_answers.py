"""Repeated searches come from kept answers, and no write is ever hidden by one: an edit, a
deletion or another caller's view is seen on the very next search."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from deploy.harness.api import accepted_upload, wait_job
from deploy.harness.fullstack import RunningStack, ShapeImage
from tests.integration.gateway.conftest import ROLE_KEYS


@pytest.fixture(scope="module")
def writer(system: RunningStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=system.gateway, headers={"X-API-Key": ROLE_KEYS["write"]}, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def own(writer: httpx.Client, images: list[ShapeImage]) -> tuple[str, list[str]]:
    """The write key's own collection of six images, indexed; its id and image ids."""
    cid = writer.post("/api/v1/collections", json={"name": "Câu trả lời đã lưu"}).json()["id"]
    body = accepted_upload(writer, cid, [i.path for i in images[40:46]])
    assert wait_job(writer, str(body["job_id"]))["status"] == "done"
    accepted = body["accepted"]
    assert isinstance(accepted, list)
    return cid, [a["image_id"] for a in accepted]


def _search(client: httpx.Client, body: dict[str, object]) -> dict[str, object]:
    resp = client.post("/api/v1/search", json=body)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert isinstance(data, dict)
    return data


def _tags(answer: dict[str, object], image_id: str) -> list[str]:
    results = answer["results"]
    assert isinstance(results, list)
    return next(r["tags"] for r in results if r["image_id"] == image_id)


def test_a_kept_answer_is_the_same_answer_stamped_anew(
    writer: httpx.Client, own: tuple[str, list[str]]
) -> None:
    cid, _ = own
    body = {"query": "một hình vuông màu xanh lá", "collection_id": cid, "top_k": 6}
    first, second = _search(writer, body), _search(writer, body)
    assert first["cached"] is False and second["cached"] is True
    assert {k: v for k, v in second.items() if k not in ("took_ms", "cached")} == {
        k: v for k, v in first.items() if k not in ("took_ms", "cached")
    }
    took = second["took_ms"]
    assert isinstance(took, float) and took >= 0
    again = writer.post("/api/v1/search", json=body)  # the raw reply of a kept answer
    assert again.json()["cached"] is True
    assert again.headers["content-type"] == "application/json"
    assert again.headers["x-content-type-options"] == "nosniff"  # the service's own headers still apply


def test_an_edit_and_a_deletion_show_on_the_next_search(
    writer: httpx.Client, own: tuple[str, list[str]]
) -> None:
    cid, ids = own
    body = {"query": "hình tròn", "collection_id": cid, "top_k": 6}
    before = _search(writer, body)
    assert _search(writer, body)["cached"] is True
    edited = writer.patch(f"/api/v1/images/{ids[0]}", json={"add_tags": ["Đã sửa"]})
    assert edited.status_code == 200, edited.text
    after = _search(writer, body)
    assert after["cached"] is True  # the candidate list still holds; the page is read again
    assert _tags(after, ids[0]) == ["đã sửa"] and _tags(before, ids[0]) == []
    assert writer.delete(f"/api/v1/images/{ids[1]}").status_code == 204
    results = _search(writer, body)["results"]
    assert isinstance(results, list)
    assert ids[1] not in {r["image_id"] for r in results} and len(results) == 5


def test_an_invalid_body_is_refused_every_time(writer: httpx.Client) -> None:
    for _ in range(2):
        resp = writer.post("/api/v1/search", json={"query": "hình tròn", "top_k": 0})
        assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_request"


def test_another_caller_never_gets_a_kept_answer_of_someone_else(
    system: RunningStack, writer: httpx.Client, own: tuple[str, list[str]]
) -> None:
    body = {"query": "ngôi sao màu vàng", "top_k": 10}  # every collection the caller sees
    assert _search(writer, body)["cached"] is False
    assert _search(writer, body)["cached"] is True
    with httpx.Client(
        base_url=system.gateway, headers={"X-API-Key": ROLE_KEYS["write-2"]}, timeout=60
    ) as other:
        theirs = _search(other, body)
    results = theirs["results"]
    assert isinstance(results, list)
    assert not {r["collection_id"] for r in results} & {own[0]}  # not the writer's collection

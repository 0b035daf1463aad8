"""The public API end to end: real processes, real Redis, a real S3 server."""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import re
import shutil
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from PIL import Image

from deploy.harness.api import accepted_upload as upload
from deploy.harness.api import wait_job
from deploy.harness.fullstack import DEMO_CHECKPOINT, RunningStack, ShapeImage, demo_model
from tests.integration.gateway.conftest import API_KEY
from tests.support.bad_zips import spoiled, with_bad_member, zipped

TRAINED = demo_model() == str(DEMO_CHECKPOINT)


def test_collections_crud(api: httpx.Client) -> None:
    created = api.post("/api/v1/collections", json={"name": "  Ảnh   gia đình "})
    assert created.status_code == 201
    col = created.json()
    assert col["name"] == "Ảnh gia đình" and col["image_count"] == 0
    assert api.get(f"/api/v1/collections/{col['id']}").json() == col
    assert col["id"] in [c["id"] for c in api.get("/api/v1/collections").json()["items"]]
    assert api.delete(f"/api/v1/collections/{col['id']}").status_code == 204
    missing = api.get(f"/api/v1/collections/{col['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "collection_not_found"


def test_search_finds_the_described_image(
    api: httpx.Client, indexed: tuple[str, dict[str, ShapeImage]]
) -> None:
    collection_id, by_id = indexed
    assert api.get(f"/api/v1/collections/{collection_id}").json()["image_count"] == 40
    hits_at_5 = 0
    for image_id, image in list(by_id.items())[:10]:
        resp = api.post(
            "/api/v1/search", json={"query": image.caption, "collection_id": collection_id, "top_k": 5}
        )
        assert resp.status_code == 200
        body = resp.json()
        assert body["partial"] is False and body["total_candidates"] == 40
        assert len(body["results"]) == 5
        scores = [r["score"] for r in body["results"]]
        assert scores == sorted(scores, reverse=True)
        assert {r["collection_id"] for r in body["results"]} == {collection_id}
        if any(by_id[r["image_id"]].scene == image.scene for r in body["results"]):
            hits_at_5 += 1
        assert image_id
    if TRAINED:
        assert hits_at_5 >= 8


def test_image_record_bytes_and_signed_urls(
    system: RunningStack, api: httpx.Client, indexed: tuple[str, dict[str, ShapeImage]]
) -> None:
    _, by_id = indexed
    image_id, image = next(iter(by_id.items()))
    record = api.get(f"/api/v1/images/{image_id}").json()
    assert record["filename"] == image.path.name and record["content_type"] == "image/png"
    assert (record["width"], record["height"]) == Image.open(image.path).size
    assert api.get(f"/api/v1/images/{image_id}/content").content == image.path.read_bytes()
    anonymous = httpx.Client(base_url=system.gateway)
    thumb = anonymous.get(record["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    assert anonymous.get(record["url"]).content == image.path.read_bytes()
    assert anonymous.get(f"/api/v1/images/{image_id}/content").status_code == 401
    forged = re.sub(r"sig=[0-9a-f]+", "sig=" + "0" * 32, record["url"])
    assert anonymous.get(forged).status_code == 401


def test_search_by_image(api: httpx.Client, indexed: tuple[str, dict[str, ShapeImage]]) -> None:
    collection_id, by_id = indexed
    image_id, image = next(iter(by_id.items()))
    by_ref = api.post("/api/v1/search/image", json={"image_id": image_id, "top_k": 5})
    assert by_ref.status_code == 200
    assert image_id not in [r["image_id"] for r in by_ref.json()["results"]]
    files = {"file": ("q.png", image.path.read_bytes(), "image/png")}
    by_upload = api.post(
        "/api/v1/search/image", files=files, data={"collection_id": collection_id, "top_k": "3"}
    )
    assert by_upload.status_code == 200
    top = by_upload.json()["results"][0]
    assert top["image_id"] == image_id and top["score"] > 0.99


def _calls(url: str, route: str) -> float:
    text = httpx.get(url + "/metrics").text
    pattern = rf'http_requests_total\{{[^}}]*route="{re.escape(route)}"[^}}]*\}} ([0-9.e+]+)'
    return sum(float(v) for v in re.findall(pattern, text))


def _upstream_calls(system: RunningStack) -> tuple[float, float]:
    """Text embeddings asked of the encoder, and searches asked of the replica, so far."""
    return _calls(system.urls["encoder"], "/v1/embed/text"), _calls(system.urls["search"], "/v1/search")


def _settle(system: RunningStack, expected: tuple[float, float]) -> tuple[float, float]:
    """The counts once they reach `expected` (a service counts a request just after answering it)."""
    deadline = time.monotonic() + 10
    while (seen := _upstream_calls(system)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return seen


def test_second_identical_search_is_cached_without_asking_encoder_or_replica(
    system: RunningStack, api: httpx.Client, indexed: tuple[str, dict]
) -> None:
    collection_id, _ = indexed
    for i in range(5):
        body = {"query": f"hình tròn màu đỏ số {i}", "collection_id": collection_id}
        encoded, searched = _upstream_calls(system)
        first = api.post("/api/v1/search", json=body).json()
        assert _settle(system, (encoded + 1, searched + 1)) == (encoded + 1, searched + 1)
        second = api.post("/api/v1/search", json=body).json()
        assert first["cached"] is False and second["cached"] is True
        assert first["results"] == second["results"]
        assert _upstream_calls(system) == (encoded + 1, searched + 1)


def test_new_images_are_found_without_stale_cache(
    api: httpx.Client, images: list[ShapeImage], indexed: tuple[str, dict]
) -> None:
    collection_id, _ = indexed
    newcomer = images[45]
    query = {"query": newcomer.caption, "collection_id": collection_id, "top_k": 50}
    before = api.post("/api/v1/search", json=query).json()
    assert api.post("/api/v1/search", json=query).json()["cached"] is True
    body = upload(api, collection_id, [newcomer.path])
    new_id = body["accepted"][0]["image_id"]
    assert wait_job(api, str(body["job_id"]))["status"] == "done"
    after = api.post("/api/v1/search", json=query).json()
    assert after["cached"] is False and after["index_version"] != before["index_version"]
    assert after["total_candidates"] == before["total_candidates"] + 1
    assert new_id in [r["image_id"] for r in after["results"]]


def test_deleted_image_disappears_at_once(
    api: httpx.Client, images: list[ShapeImage], indexed: tuple
) -> None:
    collection_id, _ = indexed
    victim = images[50]
    body = upload(api, collection_id, [victim.path])
    image_id = body["accepted"][0]["image_id"]
    wait_job(api, str(body["job_id"]))
    query = {"query": victim.caption, "collection_id": collection_id, "top_k": 50}
    assert image_id in [r["image_id"] for r in api.post("/api/v1/search", json=query).json()["results"]]
    assert api.delete(f"/api/v1/images/{image_id}").status_code == 204
    assert image_id not in [r["image_id"] for r in api.post("/api/v1/search", json=query).json()["results"]]
    assert api.get(f"/api/v1/images/{image_id}").status_code == 404
    assert api.get(f"/api/v1/images/{image_id}/thumbnail").status_code == 404


def _encoder_text_calls(system: RunningStack) -> float:
    return _calls(system.urls["encoder"], "/v1/embed/text")


def test_100_concurrent_cold_queries_make_one_encoder_call(
    system: RunningStack, indexed: tuple[str, dict]
) -> None:
    collection_id, _ = indexed
    before = _encoder_text_calls(system)
    body = {"query": "ba hình lục giác màu tím ở giữa", "collection_id": collection_id}

    async def burst() -> list[httpx.Response]:
        headers = {"X-API-Key": API_KEY}
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(
            base_url=system.gateway, headers=headers, limits=limits, timeout=60
        ) as c:
            return await asyncio.gather(*(c.post("/api/v1/search", json=body) for _ in range(100)))

    responses = asyncio.run(burst())
    assert all(r.status_code == 200 for r in responses), sorted(
        {(r.status_code, r.text[:200]) for r in responses}
    )
    assert len({tuple(x["image_id"] for x in r.json()["results"]) for r in responses}) == 1
    assert _encoder_text_calls(system) - before == 1


def _png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _zip_traversal() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("../../evil.png", _png())
    return out.getvalue()


def _zip_one_bad(method: int, *, encrypt: bool = False) -> bytes:
    return spoiled(
        zipped({"bad.png": _png((300, 200)) + bytes(range(256)) * 40}, method), "bad.png", encrypt=encrypt
    )


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("empty file", 422, "no_valid_images"),
        ("text renamed .jpg", 422, "no_valid_images"),
        ("svg", 422, "no_valid_images"),
        ("decompression bomb", 422, "no_valid_images"),
        ("path traversal filename", 422, "no_valid_images"),
        ("zip with traversal member", 422, "no_valid_images"),
        ("zip with encrypted member", 422, "no_valid_images"),
        ("zip with corrupt deflate member", 422, "no_valid_images"),
        ("zip with corrupt lzma member", 422, "no_valid_images"),
    ],
)
def test_bad_uploads_store_nothing(api: httpx.Client, name: str, status: int, code: str) -> None:
    files = {
        "empty file": ("a.png", b""),
        "text renamed .jpg": ("a.jpg", b"just some text, not a photo"),
        "svg": ("a.svg", SVG),
        "decompression bomb": ("bomb.png", _bomb()),
        "path traversal filename": ("../../etc/passwd", _png()),
        "zip with traversal member": ("x.zip", _zip_traversal()),
        "zip with encrypted member": ("x.zip", _zip_one_bad(zipfile.ZIP_STORED, encrypt=True)),
        "zip with corrupt deflate member": ("x.zip", _zip_one_bad(zipfile.ZIP_DEFLATED)),
        "zip with corrupt lzma member": ("x.zip", _zip_one_bad(zipfile.ZIP_LZMA)),
    }[name]
    col = api.post("/api/v1/collections", json={"name": name}).json()["id"]
    resp = api.post(f"/api/v1/collections/{col}/images", files=[("files", files)])
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code
    assert api.get(f"/api/v1/collections/{col}").json()["image_count"] == 0


def test_body_over_the_limit_is_413(api: httpx.Client) -> None:
    col = api.post("/api/v1/collections", json={"name": "big"}).json()["id"]
    resp = api.post(f"/api/v1/collections/{col}/images", files=[("files", ("big.png", b"\x00" * 3_000_000))])
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "payload_too_large"
    assert api.get(f"/api/v1/collections/{col}").json()["image_count"] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": ""}, "invalid_request"),
        ({"query": "   "}, "empty_query"),
        ({"query": "x" * 10_000}, "invalid_request"),
        ({"query": "a\x00b"}, "invalid_query"),
        ({"query": "mèo", "top_k": 0}, "invalid_request"),
        ({"query": "mèo", "top_k": -1}, "invalid_request"),
        ({"query": "mèo", "top_k": 1_000_000}, "invalid_request"),
        ({"query": "mèo", "offset": -5}, "invalid_request"),
    ],
)
def test_bad_queries_are_422(api: httpx.Client, body: dict[str, object], code: str) -> None:
    resp = api.post("/api/v1/search", json=body)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == code


def test_unknown_ids_and_keys(system: RunningStack, api: httpx.Client) -> None:
    assert api.post("/api/v1/search", json={"query": "mèo", "collection_id": "nope"}).status_code == 404
    assert api.get("/api/v1/images/0123456789abcdef").json()["error"]["code"] == "image_not_found"
    assert api.get("/api/v1/jobs/nope").status_code == 404
    anonymous = httpx.post(system.gateway + "/api/v1/search", json={"query": "mèo"})
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "missing_api_key"
    wrong = httpx.get(system.gateway + "/api/v1/collections", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert wrong.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/collections", {"X-API-Key": "khóa-bí-mật".encode()}),
        ("/api/v1/collections", {"Authorization": "Bearer \xff\xfe".encode("latin-1")}),
        ("/api/v1/images/0123456789abcdef/content?exp=%C2%B2&sig=00", {}),  # '²'.isdigit() is True
        ("/api/v1/images/0123456789abcdef/content?exp=%D9%A1%D9%A2&sig=00", {}),  # Arabic-Indic digits
        ("/api/v1/images/0123456789abcdef/thumbnail?exp=99999999999&sig=%C3%A9", {}),  # a non-ASCII signature
    ],
)
def test_odd_keys_and_signatures_are_401_and_the_connection_lives_on(
    system: RunningStack, path: str, headers: dict[str, bytes]
) -> None:
    conn = http.client.HTTPConnection(system.gateway.removeprefix("http://"), timeout=30)
    conn.putrequest("GET", path)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    first = conn.getresponse()
    body = json.loads(first.read())
    assert first.status == 401, body
    assert body["error"]["code"] in ("missing_api_key", "invalid_api_key")
    conn.request("GET", "/api/v1/collections", headers={"X-API-Key": API_KEY})  # the same connection
    assert conn.getresponse().status == 200
    conn.close()
    assert "Traceback" not in "".join(system.stack.logs["gateway"])


def test_a_zip_member_that_cannot_be_read_is_rejected_and_its_neighbours_stored(api: httpx.Client) -> None:
    good = {"truoc.png": _png((31, 32)), "sau.png": _png((33, 34))}
    bad = _png((300, 200)) + bytes(range(256)) * 40
    col = api.post("/api/v1/collections", json={"name": "zip hỏng"}).json()["id"]
    for method, encrypt, code in [
        (zipfile.ZIP_STORED, True, "encrypted_member"),
        (zipfile.ZIP_DEFLATED, False, "corrupt_archive"),
        (zipfile.ZIP_LZMA, False, "corrupt_archive"),
    ]:
        archive = with_bad_member(good, bad, method, encrypt=encrypt)
        resp = api.post(f"/api/v1/collections/{col}/images", files=[("files", ("album.zip", archive))])
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert {i["filename"] for i in body["accepted"] + body["duplicates"]} == {"truoc.png", "sau.png"}
        assert [(r["filename"], r["error"]["code"]) for r in body["rejected"]] == [("bad.png", code)]
    assert api.get(f"/api/v1/collections/{col}").json()["image_count"] == 2


def test_import_from_an_allowed_folder_indexes_its_images(
    api: httpx.Client, images: list[ShapeImage], import_root: Path
) -> None:
    folder = import_root / "album"
    folder.mkdir()
    for image in images[52:57]:
        shutil.copy(image.path, folder / image.path.name)
    (folder / "notes.txt").write_text("không phải ảnh", encoding="utf-8")
    col = api.post("/api/v1/collections", json={"name": "Nhập từ thư mục"}).json()["id"]
    resp = api.post(f"/api/v1/collections/{col}/import", json={"source": str(folder)})
    assert resp.status_code == 202, resp.text
    job = wait_job(api, resp.json()["job_id"])
    assert job["status"] == "done" and job["done"] == 5, job
    assert api.get(f"/api/v1/collections/{col}").json()["image_count"] == 5
    query = {"query": images[52].caption, "collection_id": col, "top_k": 5}
    names = {r["filename"] for r in api.post("/api/v1/search", json=query).json()["results"]}
    assert names == {i.path.name for i in images[52:57]}


def test_import_outside_allowed_roots_is_refused(api: httpx.Client) -> None:
    col = api.post("/api/v1/collections", json={"name": "import"}).json()["id"]
    resp = api.post(f"/api/v1/collections/{col}/import", json={"source": "/etc"})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "import_outside_roots"

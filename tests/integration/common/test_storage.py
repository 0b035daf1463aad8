"""Both storage backends through one interface: the local directory and S3 over real HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services.common.settings import StorageSettings
from services.common.storage import ChecksumMismatch, ObjectNotFound, ObjectStore, open_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return open_store(StorageSettings(backend="local", local_root=tmp_path / "store"))
    settings: StorageSettings = request.getfixturevalue("s3_settings")
    return open_store(settings)


def test_round_trip_keeps_bytes_type_and_metadata(store: ObjectStore) -> None:
    data = "ảnh một cậu bé".encode() * 100
    info = store.put("images/c1/a.bin", data, "image/png", {"filename": "be-trai.png"})
    assert info.size == len(data)
    assert store.get("images/c1/a.bin") == data
    st = store.stat("images/c1/a.bin")
    assert st is not None
    assert (st.size, st.content_type, st.metadata["filename"]) == (len(data), "image/png", "be-trai.png")
    assert st.sha256 == info.sha256


def test_list_stat_delete_are_idempotent(store: ObjectStore) -> None:
    for name in ("b", "a", "c"):
        store.put(f"p/{name}", name.encode())
    store.put("q/x", b"x")
    assert store.list_keys("p/") == ["p/a", "p/b", "p/c"]
    store.delete("p/b")
    store.delete("p/b")
    assert store.list_keys("p/") == ["p/a", "p/c"]
    assert store.stat("p/b") is None
    with pytest.raises(ObjectNotFound):
        store.get("p/b")


def test_overwrite_replaces_whole_object(store: ObjectStore) -> None:
    store.put("k", b"old" * 1000)
    store.put("k", b"new")
    assert store.get("k") == b"new"


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/../b", "", "a\x00b", "a b"])
def test_unsafe_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put(key, b"x")


async def test_async_twins(store: ObjectStore) -> None:
    await store.aput("async/k", b"v")
    assert await store.aget("async/k") == b"v"
    assert await store.alist("async/") == ["async/k"]
    await store.aping()


def test_local_checksum_mismatch_is_detected(tmp_path: Path) -> None:
    store = open_store(StorageSettings(backend="local", local_root=tmp_path))
    store.put("shard/0", b"\x00" * 64)
    (tmp_path / "objects" / "shard" / "0").write_bytes(b"\x01" + b"\x00" * 63)
    with pytest.raises(ChecksumMismatch):
        store.get("shard/0")
    assert store.get("shard/0", verify=False)[0] == 1


def test_s3_presigned_url_serves_bytes(s3_settings: StorageSettings) -> None:
    store = open_store(s3_settings)
    store.put("img/p.png", b"\x89PNG-bytes", "image/png")
    url = store.presigned_get_url("img/p.png", expires_s=60)
    assert url is not None
    resp = httpx.get(url)
    assert resp.status_code == 200
    assert resp.content == b"\x89PNG-bytes"


def test_s3_down_is_unavailable_not_a_hang() -> None:
    from deploy.stack import free_port
    from services.common.storage import StorageUnavailable

    settings = StorageSettings(backend="s3", s3_endpoint=f"http://127.0.0.1:{free_port()}", timeout_s=1)
    store = open_store(settings)
    with pytest.raises(StorageUnavailable):
        store.ping()

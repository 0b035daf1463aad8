"""The embeddings import: clip-retrieval's layout and the project's own, checked, resumable, one
publish; deleted images stay deleted; what it refuses, it says (exit status 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from services.common.catalog import ReferencedImage, open_catalog, referenced_image_id
from services.common.settings import CatalogSettings, StorageSettings
from services.common.shards import (
    Manifest,
    pack_vectors,
    read_current,
    tombstone_key,
    unpack_ids,
    unpack_vectors,
    vectors_prefix,
)
from services.common.storage import ObjectStore, open_store
from services.indexer import bulk_import
from services.indexer.bulk_sink import BulkSink
from tests.support.index_data import clustered

DIM = 64
MODEL = "mv-bulk"


@pytest.fixture
def env(tmp_path: Path, catalog_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(tmp_path / "storage"),
        "CATALOG_URL": catalog_url,
        "INDEXER_QUEUE_PATH": str(tmp_path / "queue" / "q.sqlite"),
        "INDEXER_ENCODER_URL": "http://127.0.0.1:9",  # nothing listens: the model is named instead
        "INDEXER_SHARD_COUNT": "2",
    }
    monkeypatch.delenv("REDIS_URL", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def open_parts(env: dict[str, str]) -> tuple[ObjectStore, bulk_import.Catalog]:
    store = open_store(StorageSettings(backend="local", local_root=Path(env["STORAGE_LOCAL_ROOT"])))
    return store, open_catalog(CatalogSettings(url=env["CATALOG_URL"]), store)


def clip_retrieval_folder(root: Path, parts: list[int], seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Parts of `parts[i]` rows; part 0 in float16 as `clip inference` writes, the rest float32."""
    (root / "img_emb").mkdir(parents=True)
    (root / "metadata").mkdir()
    x = clustered(sum(parts), DIM, seed)
    paths = [f"Đà Lạt/2024/ảnh_{seed}_{i:05d}.jpg" for i in range(sum(parts))]
    start = 0
    for n, rows in enumerate(parts):
        part = x[start : start + rows]
        np.save(root / "img_emb" / f"img_emb_{n}.npy", part.astype(np.float16 if n == 0 else np.float32))
        table = pa.table(
            {
                "image_path": paths[start : start + rows],
                "caption": ["một bức ảnh"] * rows,
                "width": [640] * rows,
                "height": [480] * rows,
            }
        )
        pq.write_table(table, root / "metadata" / f"metadata_{n}.parquet")
        start += rows
    return paths, x


def args(folder: Path, cid: str, *extra: str) -> list[str]:
    """The import's command line for the test model."""
    return [str(folder), "--collection", cid, "--model-version", MODEL, "--dim", str(DIM), *extra]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object] | str]:
    code = bulk_import.main(argv)
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if code == 0 else err)


def stored_vectors(store: ObjectStore, cid: str) -> dict[str, list[np.ndarray]]:
    found: dict[str, list[np.ndarray]] = {}
    for key in store.list_keys(vectors_prefix(cid, MODEL)):
        ids, vectors = unpack_vectors(store.get(key))
        for iid, vec in zip(ids, vectors, strict=True):
            found.setdefault(iid, []).append(vec)
    return found


def indexed_ids(store: ObjectStore, cid: str) -> list[str]:
    pointer = read_current(store, cid)
    assert pointer is not None
    manifest = Manifest.model_validate_json(store.get(pointer.manifest_key))
    return [i for s in manifest.shards for seg in s.segments for i in unpack_ids(store.get(seg.ids_key))]


def test_clip_retrieval_layout_imports_once_and_reruns_change_nothing(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, catalog = open_parts(env)
    cid = catalog.create_collection("Thư viện ảnh").id
    folder = tmp_path / "emb"
    paths, x = clip_retrieval_folder(folder, [1_300, 700])
    argv = args(folder, cid, "--chunk-rows", "500")

    code, summary = run(argv, capsys)
    assert code == 0, summary
    assert isinstance(summary, dict)
    assert summary["images"] == 2_000 and summary["written"] == 2_000 and summary["rejected"] == {}
    assert summary["index_count"] == 2_000 and summary["batches"] == 5  # 3 chunks + 2 chunks
    ids = [referenced_image_id(cid, p) for p in paths]
    assert sorted(indexed_ids(store, cid)) == sorted(ids)  # every image indexed, once
    vectors = stored_vectors(store, cid)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert np.allclose(vectors[ids[5]][0], unit[5], atol=2e-3)  # float16 part, normalised
    assert np.allclose(vectors[ids[1_500]][0], unit[1_500], atol=1e-6)
    assert catalog.count_images(cid) == 2_000
    record = catalog.get_image(ids[0])
    assert record is not None
    assert (record.filename, record.folder, record.width, record.content_type) == (
        "ảnh_0_00000.jpg", "Đà Lạt/2024", 640, "image/jpeg",
    )  # fmt: skip
    hits = catalog.keyword_search("da lat", [cid], limit=5)  # a word of the path finds the image
    assert len(hits) == 5 and all(h.collection_id == cid for h in hits)
    version = summary["index_version"]

    code, again = run(argv, capsys)
    assert code == 0 and isinstance(again, dict)
    assert again["written"] == 0 and again["resumed"] == 2_000 and again["index_version"] == version
    assert catalog.count_images(cid) == 2_000
    catalog.sessions.dispose()


def test_an_interrupted_import_resumes_and_deleted_images_stay_deleted(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, catalog = open_parts(env)
    cid = catalog.create_collection("Gia đình").id
    folder = tmp_path / "emb"
    paths, _ = clip_retrieval_folder(folder, [1_000], seed=3)
    argv = args(folder, cid, "--chunk-rows", "250")
    ids = [referenced_image_id(cid, p) for p in paths]

    real = BulkSink.write_references
    calls = {"n": 0}

    async def dies_on_the_third_chunk(
        self: BulkSink, part: int, chunk: int, images: list[ReferencedImage], vectors: np.ndarray
    ) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("the machine went down")
        await real(self, part, chunk, images, vectors)

    monkeypatch.setattr(BulkSink, "write_references", dies_on_the_third_chunk)
    with pytest.raises(OSError):
        bulk_import.main(argv)
    capsys.readouterr()
    assert read_current(store, cid) is None  # nothing published by the failed run
    monkeypatch.setattr(BulkSink, "write_references", real)
    store.put(tombstone_key(cid, ids[900]), b"")  # deleted meanwhile (chunk 3, not yet written)

    code, summary = run(argv, capsys)
    assert code == 0 and isinstance(summary, dict), summary
    assert summary["resumed"] == 500 and summary["written"] == 499 and summary["kept_deleted"] == 1
    indexed = indexed_ids(store, cid)
    assert len(indexed) == len(set(indexed)) == 999 and ids[900] not in indexed
    assert all(len(v) == 1 for v in stored_vectors(store, cid).values())  # never twice
    catalog.sessions.dispose()


def test_own_vector_batches_of_catalogued_images(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, catalog = open_parts(env)
    cid = catalog.create_collection("Sao chép").id
    images = [ReferencedImage(f"a/{i}.png") for i in range(300)]
    ids = catalog.add_referenced_images(cid, images)
    x = clustered(301, DIM, 9)
    (tmp_path / "vec").mkdir()
    (tmp_path / "vec" / "b0.npz").write_bytes(pack_vectors([*ids, "not-catalogued"], x))
    argv = [str(tmp_path / "vec"), "--collection", cid, "--model-version", MODEL, "--dim", str(DIM)]
    code, summary = run(argv, capsys)
    assert code == 0 and isinstance(summary, dict), summary
    assert summary["written"] == 300 and summary["rejected"] == {"not_in_collection": 1}
    assert sorted(indexed_ids(store, cid)) == sorted(ids)
    catalog.sessions.dispose()


def test_bad_rows_are_counted_and_left_out(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, catalog = open_parts(env)
    cid = catalog.create_collection("Lỗi").id
    folder = tmp_path / "emb"
    (folder / "img_emb").mkdir(parents=True)
    (folder / "metadata").mkdir()
    x = clustered(10, DIM, 1)
    x[2] = np.nan
    x[3] = 0.0
    np.save(folder / "img_emb" / "img_emb_0.npy", x)
    paths: list[str | None] = [f"p/{i}.jpg" for i in range(10)]
    paths[4] = None
    paths[5] = "  "
    pq.write_table(pa.table({"url": paths}), folder / "metadata" / "metadata_0.parquet")
    code, summary = run(
        [str(folder), "--collection", cid, "--model-version", MODEL, "--dim", str(DIM)], capsys
    )
    assert code == 0 and isinstance(summary, dict), summary
    assert summary["rejected"] == {"not_finite": 1, "zero_vector": 1, "no_reference": 2}
    assert summary["written"] == summary["index_count"] == 6 and summary["images"] == 10
    catalog.sessions.dispose()


def test_what_it_refuses_it_says(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, catalog = open_parts(env)
    cid = catalog.create_collection("Từ chối").id
    folder = tmp_path / "emb"
    clip_retrieval_folder(folder, [100])
    base = [str(folder), "--collection", cid]

    code, err = run([*base, "--dim", str(DIM)], capsys)  # no encoder answers, no model named
    assert code == 2 and "--model-version" in str(err)
    code, err = run([*base, "--model-version", MODEL, "--dim", "512"], capsys)
    assert code == 2 and "shape" in str(err)
    code, err = run(
        [str(folder), "--collection", "nope", "--model-version", MODEL, "--dim", str(DIM)], capsys
    )
    assert code == 2 and "does not exist" in str(err)

    code, _ = run([*base, "--model-version", MODEL, "--dim", str(DIM)], capsys)
    assert code == 0
    code, err = run([*base, "--model-version", "another-model", "--dim", str(DIM)], capsys)
    assert code == 2 and f"indexed with model {MODEL}" in str(err)
    code, err = run([*base, "--model-version", MODEL, "--dim", "32"], capsys)
    assert code == 2 and "dimensions disagree" in str(err)

    (folder / "metadata" / "metadata_0.parquet").unlink()
    code, err = run([*base, "--model-version", MODEL, "--dim", str(DIM)], capsys)
    assert code == 2 and "metadata_0.parquet" in str(err)
    catalog.sessions.dispose()

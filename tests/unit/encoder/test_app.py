"""The encoder app in-process: routes, limits and error codes, on a real (tiny) model."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from fastapi.testclient import TestClient

from deploy.harness.ready import wait_ready
from services.common.schemas.encoder import MODEL_VERSION_HEADER
from services.common.settings import StorageSettings
from services.encoder.app import create_app
from services.encoder.settings import EncoderSettings
from tests.support.bad_images import encode, photo

if TYPE_CHECKING:
    from vi_clip import ViClip


@pytest.fixture(scope="module")
def client(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = EncoderSettings(
        model=str(checkpoint),
        storage=StorageSettings(backend="local", local_root=tmp_path_factory.mktemp("store")),
        max_texts_per_call=4,
        max_text_chars=20,
        max_images_per_call=3,
        max_image_bytes=1_000_000,
        max_request_bytes=3_000_000,
    )
    with TestClient(create_app(settings)) as c:
        wait_ready(c.get, timeout_s=90, poll_s=0.1)
        yield c


def _code(resp: object) -> tuple[int, str]:
    return resp.status_code, resp.json()["error"]["code"]


def test_model_info_names_the_checkpoint_and_its_limits(client: TestClient, reference: ViClip) -> None:
    resp = client.get("/v1/model")
    info = resp.json()
    assert resp.headers[MODEL_VERSION_HEADER] == info["version"] == reference.version
    assert (info["name"], info["dim"], info["image_size"]) == ("vi-tiny", 256, 64)
    assert (info["device"], info["dtype"], info["max_batch"]) == ("cpu", "float32", 64)
    assert info["limits"]["max_texts_per_call"] == 4


def test_texts_embed_like_the_model_package(client: TestClient, reference: ViClip) -> None:
    texts = ["con mèo", "hình tròn xanh"]
    body = client.post("/v1/embed/text", json={"texts": texts}).json()
    assert body["model_version"] == reference.version and body["errors"] == {}
    np.testing.assert_allclose(np.array(body["vectors"]), reference.encode_text(texts).numpy(), atol=1e-5)


def test_nfd_input_gives_the_nfc_vector(client: TestClient) -> None:
    nfc = "Phở bò Hà Nội ở đường Trần Hưng Đạo"[:20]
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc and len(nfd) > 20  # longer than the limit before NFC, within it after
    resp = client.post("/v1/embed/text", json={"texts": [nfc, nfd]}, headers={"Accept": "application/x-npy"})
    vectors = np.load(io.BytesIO(resp.content))
    np.testing.assert_array_equal(vectors[0], vectors[1])


@pytest.mark.parametrize(
    ("texts", "status", "code"),
    [
        (["a"] * 5, 413, "too_many_texts"),
        (["x" * 21], 413, "text_too_long"),
        (["ổn", "  "], 422, "empty_text"),
        ([], 422, "invalid_request"),
    ],
)
def test_text_limits_are_4xx_with_a_code(
    client: TestClient, texts: list[str], status: int, code: str
) -> None:
    assert _code(client.post("/v1/embed/text", json={"texts": texts})) == (status, code)


def test_an_accept_we_cannot_serve_is_406(client: TestClient) -> None:
    resp = client.post("/v1/embed/text", json={"texts": ["a"]}, headers={"Accept": "text/csv"})
    assert _code(resp) == (406, "not_acceptable")


def test_image_requests_are_checked_before_any_work(client: TestClient) -> None:
    jpeg = encode(photo(), "JPEG")
    assert _code(client.post("/v1/embed/image", content=jpeg, headers={"Content-Type": "image/jpeg"})) == (
        415,
        "unsupported_media_type",
    )
    assert _code(client.post("/v1/embed/image", files={"files": (None, b"a field, not a file")})) == (
        422,
        "no_images",
    )
    four = [("files", (f"{i}.jpg", jpeg)) for i in range(4)]
    assert _code(client.post("/v1/embed/image", files=four)) == (413, "too_many_images")
    assert _code(client.post("/v1/embed/image", json={"keys": ["a"] * 4})) == (413, "too_many_images")
    assert _code(client.post("/v1/embed/image", json={"keys": []})) == (422, "invalid_request")


def test_size_limits_per_file_and_per_request(client: TestClient) -> None:
    big = b"\xff\xd8\xff" + bytes(1_100_000)
    resp = client.post("/v1/embed/image", files=[("files", ("big.jpg", big))])
    assert _code(resp) == (413, "file_too_large") and resp.json()["error"]["details"] == {"index": 0}
    two = [("files", ("a.jpg", encode(photo(), "JPEG"))), ("files", ("big.jpg", big))]
    body = client.post("/v1/embed/image", files=two).json()
    assert body["vectors"][0] is not None and body["errors"]["1"]["code"] == "file_too_large"
    huge = [("files", (f"{i}.jpg", big)) for i in range(3)]
    assert _code(client.post("/v1/embed/image", files=huge)) == (413, "request_too_large")


def test_metrics_show_batches_and_queue_depth(client: TestClient) -> None:
    client.post("/v1/embed/text", json={"texts": ["một", "hai"]})
    text = client.get("/metrics").text
    assert 'encoder_batch_size_bucket{kind="text",le="2.0"}' in text
    assert 'encoder_queue_depth{kind="text"}' in text
    assert 'encoder_rejected_items_total{code="file_too_large",kind="image"}' in text


def test_until_the_model_loads_readyz_and_embed_say_why(tmp_path: Path) -> None:
    settings = EncoderSettings(model="no-such-model", storage=StorageSettings(local_root=tmp_path))
    with TestClient(create_app(settings)) as c:
        for _ in range(200):
            ready = c.get("/readyz")
            model = next(ch for ch in ready.json()["checks"] if ch["name"] == "model")
            if model["reason"] != "model is loading":
                break
        assert ready.status_code == 503 and "no-such-model" in model["reason"]
        resp = c.post("/v1/embed/text", json={"texts": ["a"]})
        assert _code(resp) == (503, "model_not_ready") and "no-such-model" in resp.json()["error"]["message"]
        assert c.get("/healthz").status_code == 200

"""The encoder as a process over real HTTP: same vectors as the model package, batching, the client."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from typing import TYPE_CHECKING

import httpx
import numpy as np
import pytest

from services.common.clients import EncoderClient, ServiceError
from services.common.images import decode_image
from tests.support.bad_images import encode, photo
from tests.support.encoder import EncoderProcess

if TYPE_CHECKING:
    import torch

    from vi_clip import ViClip

TEXTS = ["một con mèo đen nằm trên ghế", "hình tròn màu đỏ ở góc trên bên trái", "Hà Nội mùa thu"]


def _pixels(model: ViClip, blobs: list[bytes]) -> torch.Tensor:
    import torch

    return torch.stack([model.image_transform(decode_image(b)) for b in blobs])


def _series(metrics: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_text_vectors_equal_the_model_package(encoder: EncoderProcess, reference: ViClip) -> None:
    client = EncoderClient(encoder.url, timeout_s=30)
    vectors, version = await client.embed_texts(TEXTS)
    await client.aclose()
    assert version == reference.version and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, reference.encode_text(TEXTS).numpy(), atol=1e-5)


async def test_nfc_and_nfd_give_the_same_vector(encoder: EncoderProcess) -> None:
    async with httpx.AsyncClient(base_url=encoder.url, timeout=30) as http:
        nfc = [unicodedata.normalize("NFC", t) for t in TEXTS]
        nfd = [unicodedata.normalize("NFD", t) for t in TEXTS]
        a = (await http.post("/v1/embed/text", json={"texts": nfc})).json()["vectors"]
        b = (await http.post("/v1/embed/text", json={"texts": nfd})).json()["vectors"]
    np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-6)


async def test_concurrent_single_text_requests_are_batched(
    encoder: EncoderProcess, reference: ViClip
) -> None:
    texts = [f"hình số {i} màu xanh" for i in range(48)]
    async with httpx.AsyncClient(base_url=encoder.url, timeout=60) as http:
        before = (await http.get("/metrics")).text
        answers = await asyncio.gather(*(http.post("/v1/embed/text", json={"texts": [t]}) for t in texts))
        after = (await http.get("/metrics")).text
    got = np.array([a.json()["vectors"][0] for a in answers])
    np.testing.assert_allclose(got, reference.encode_text(texts).numpy(), atol=1e-5)
    count, total = 'encoder_batch_size_count{kind="text"}', 'encoder_batch_size_sum{kind="text"}'
    forwards = _series(after, count) - _series(before, count)
    assert _series(after, total) - _series(before, total) == 48
    assert forwards <= 12, f"48 concurrent requests took {forwards:g} forwards"


async def test_image_files_and_keys_equal_the_model_package(
    encoder: EncoderProcess, reference: ViClip
) -> None:
    blobs = [encode(photo(seed=i), fmt) for i, fmt in enumerate(["JPEG", "PNG", "WEBP"])]
    expected = reference.encode_image(_pixels(reference, blobs)).numpy()
    keys = [f"images/{i}" for i in range(len(blobs))]
    for key, blob in zip(keys, blobs, strict=True):
        await encoder.store.aput(key, blob)
    client = EncoderClient(encoder.url, timeout_s=30, binary_dtype="float32")
    by_file = await client.embed_images(blobs)
    by_key = await client.embed_image_keys([*keys, "images/missing"])
    one, version = await client.embed_image(blobs[0])
    await client.aclose()
    assert by_file.errors == {} and by_file.model_version == version == reference.version
    np.testing.assert_allclose(by_file.vectors, expected, atol=1e-5)
    np.testing.assert_allclose(by_key.vectors[:3], expected, atol=1e-5)
    np.testing.assert_allclose(one, expected[0], atol=1e-5)
    assert (
        by_key.ok == [0, 1, 2] and by_key.errors[3].code == "not_found" and np.isnan(by_key.vectors[3]).all()
    )


async def test_the_client_reports_refusals_in_one_shape(encoder: EncoderProcess, reference: ViClip) -> None:
    client = EncoderClient(encoder.url, timeout_s=30, binary_dtype="float16")
    single = await client.embed_images([b"not an image"])
    assert single.errors[0].code == "unsupported_format" and single.vectors.shape == (1, reference.embed_dim)
    assert single.model_version == reference.version and single.ok == []
    half, _ = await client.embed_texts(TEXTS[:1])
    assert half.dtype == np.float32
    np.testing.assert_allclose(half, reference.encode_text(TEXTS[:1]).numpy(), atol=2e-3)
    with pytest.raises(ServiceError) as err:
        await client.embed_image(b"")
    assert err.value.status == 400 and err.value.body["error"]["code"] == "empty_file"
    with pytest.raises(ServiceError) as err:
        await client.embed_texts(["x"] * 1000)
    assert err.value.status == 413
    info = await client.model_info()
    await client.aclose()
    assert info.version == reference.version and info.limits is not None

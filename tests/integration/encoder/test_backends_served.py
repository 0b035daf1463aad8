"""Every pretrained backend family, tiny and random, saved as a checkpoint and served by the real
encoder process: the same vectors and version as the model package, unit norm, NFC = NFD."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from deploy.harness.backends import EMBED_DIM, FAMILIES, tiny_backend
from deploy.harness.ready import wait_ready
from deploy.stack import Ports, Stack, free_port, service_specs
from services.common.clients import EncoderClient
from services.common.images import decode_image
from tests.support.bad_images import encode, photo

REPO = Path(__file__).resolve().parents[3]
TEXTS = ["một con mèo đen nằm trên ghế", "Hà Nội mùa thu", "hình tròn màu đỏ ở góc trên bên trái"]


@pytest.fixture(scope="module", params=list(FAMILIES))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str
) -> Iterator[tuple[str, Any]]:
    """(encoder URL, the same model loaded in this process) for one backend family."""
    import torch

    from vi_clip import create_model, save_checkpoint

    family = str(request.param)
    root = tmp_path_factory.mktemp(family)
    torch.manual_seed(0)
    checkpoint = save_checkpoint(tiny_backend(family, root / "tokenizer"), root / "checkpoint")
    env = {
        "ENCODER_MODEL": str(checkpoint),
        "ENCODER_TORCH_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": f"enc-{uuid.uuid4().hex[:12]}",
    }
    spec = service_specs(Ports(encoder=free_port()), env)[0]
    with Stack([spec], cwd=str(REPO), echo=False).running(timeout_s=90):
        wait_ready(spec.url, timeout_s=90)
        yield spec.url, create_model(str(checkpoint))


async def test_text_vectors_and_version_equal_the_package(served: tuple[str, Any]) -> None:
    url, reference = served
    client = EncoderClient(url, timeout_s=30)
    try:
        vectors, version = await client.embed_texts(TEXTS)
        info = await client.model_info()
    finally:
        await client.aclose()
    assert version == info.version == reference.version
    assert version.startswith(reference.backend + "-") and info.dim == EMBED_DIM
    assert vectors.shape == (len(TEXTS), EMBED_DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors, reference.encode_text(TEXTS).numpy(), atol=1e-5)


async def test_nfc_and_nfd_give_the_same_vector(served: tuple[str, Any]) -> None:
    url, _ = served
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        nfc = [unicodedata.normalize("NFC", t) for t in TEXTS]
        nfd = [unicodedata.normalize("NFD", t) for t in TEXTS]
        assert nfc != nfd
        a = (await http.post("/v1/embed/text", json={"texts": nfc})).json()["vectors"]
        b = (await http.post("/v1/embed/text", json={"texts": nfd})).json()["vectors"]
    np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-6)


async def test_image_vectors_equal_the_package(served: tuple[str, Any]) -> None:
    import torch

    url, reference = served
    blobs = [encode(photo(seed=i), fmt) for i, fmt in enumerate(["JPEG", "PNG"])]
    client = EncoderClient(url, timeout_s=30)
    try:
        result = await client.embed_images(blobs)
    finally:
        await client.aclose()
    assert not result.errors and result.model_version == reference.version
    pixels = torch.stack([reference.image_transform(decode_image(b)) for b in blobs])
    np.testing.assert_allclose(result.vectors, reference.encode_image(pixels).numpy(), atol=1e-5)

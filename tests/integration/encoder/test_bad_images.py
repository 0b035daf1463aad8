"""The hostile corpus against a running encoder: each file embeds correctly or is a 4xx with its code,
memory stays bounded (the 400 MB bomb is never decoded) and the process keeps serving."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import numpy as np
import pytest

from services.common.schemas.encoder import IMAGE_ERRORS
from tests.support.bad_images import Case, corpus, encode, photo
from tests.support.encoder import EncoderProcess

if TYPE_CHECKING:
    from vi_clip import ViClip

CORPUS = corpus()


def _rss_mb(pid: int) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}


def _embed(model: ViClip, image: object) -> np.ndarray:
    pixels = model.image_transform(image).unsqueeze(0)
    return model.encode_image(pixels).numpy()[0]


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_each_file_alone_is_embedded_or_refused_with_its_code(
    encoder: EncoderProcess, reference: ViClip, case: Case
) -> None:
    resp = httpx.post(
        encoder.url + "/v1/embed/image", files=[("files", (f"{case.name}.jpg", case.data))], timeout=30
    )
    if case.code is not None:
        assert resp.status_code == IMAGE_ERRORS[case.code][0]
        assert resp.json()["error"]["code"] == case.code
        return
    assert resp.status_code == 200, resp.text
    vector = np.array(resp.json()["vectors"][0])
    twin = _embed(reference, case.twin)
    assert float(vector @ twin) > 0.99
    if case.name == "exif_rotated":
        assert case.twin is not None
        as_stored = _embed(reference, case.twin.rotate(90, expand=True))
        assert np.linalg.norm(vector - twin) < 0.5 * np.linalg.norm(vector - as_stored)


async def test_the_corpus_at_once_keeps_memory_bounded_and_the_process_serving(
    encoder: EncoderProcess,
) -> None:
    before = _rss_mb(encoder.pid)
    files = [("files", (c.name, c.data)) for c in CORPUS]
    async with httpx.AsyncClient(base_url=encoder.url, timeout=60) as http:
        rounds = await asyncio.gather(*(http.post("/v1/embed/image", files=files) for _ in range(4)))
        for resp in rounds:
            body = resp.json()
            assert resp.status_code == 200
            assert {int(i): e["code"] for i, e in body["errors"].items()} == {
                i: c.code for i, c in enumerate(CORPUS) if c.code is not None
            }
            assert all(v is not None for v, c in zip(body["vectors"], CORPUS, strict=True) if c.code is None)
        after = _rss_mb(encoder.pid)
        assert after["VmHWM"] - before["VmRSS"] < 250, (before, after)  # the bomb alone would be 400 MB
        assert (await http.get("/healthz")).status_code == 200
        ok = await http.post("/v1/embed/image", files=[("files", ("ok.png", encode(photo(), "PNG")))])
        assert ok.status_code == 200 and ok.json()["errors"] == {}

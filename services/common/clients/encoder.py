"""Client of the encoder service: vectors come back as float32 numpy arrays over the `.npy` path."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from services.common import npy
from services.common.clients.base import ServiceClient, ServiceError
from services.common.errors import ErrorDetail
from services.common.schemas.encoder import (
    EMBED_ERRORS_HEADER,
    IMAGE_ERRORS,
    MODEL_VERSION_HEADER,
    NPY_FLOAT16,
    NPY_FLOAT32,
    ModelInfo,
)


@dataclass(frozen=True)
class ImageEmbeddings:
    """One row per input image; the rows of failed images are NaN and `errors` says why."""

    vectors: np.ndarray  # float32 [N, D]
    model_version: str
    errors: dict[int, ErrorDetail] = field(default_factory=dict)

    @property
    def ok(self) -> list[int]:
        """Indexes of the images that have a vector."""
        return [i for i in range(len(self.vectors)) if i not in self.errors]


def _image_error(code: str) -> ErrorDetail:
    message = IMAGE_ERRORS.get(code, (422, "The image was refused."))[1]
    return ErrorDetail(code=code, message=message)


class EncoderClient(ServiceClient):
    """`binary_dtype="float16"` halves the bytes on the wire; vectors are float32 either way."""

    service = "encoder"

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 5.0,
        *,
        binary_dtype: str = "float32",
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, timeout_s, max_connections=max_connections, transport=transport)
        if binary_dtype not in ("float32", "float16"):
            raise ValueError("binary_dtype is float32 or float16")
        self._accept = NPY_FLOAT16 if binary_dtype == "float16" else NPY_FLOAT32

    async def model_info(self) -> ModelInfo:
        return ModelInfo.model_validate((await self.request("GET", "/v1/model")).json())

    def _decode(self, resp: httpx.Response) -> tuple[np.ndarray, str, dict[int, ErrorDetail]]:
        vectors = npy.loads(resp.content).astype(np.float32, copy=False)
        raw = json.loads(resp.headers.get(EMBED_ERRORS_HEADER, "{}"))
        errors = {int(i): _image_error(str(code)) for i, code in raw.items()}
        return vectors, resp.headers[MODEL_VERSION_HEADER], errors

    async def embed_texts(self, texts: Sequence[str]) -> tuple[np.ndarray, str]:
        """float32 [N, D] unit vectors and the version of the model that made them."""
        resp = await self.request(
            "POST", "/v1/embed/text", fast=True, json={"texts": list(texts)}, headers={"Accept": self._accept}
        )
        vectors, version, _ = self._decode(resp)
        return vectors, version

    async def _embed_images(self, **kwargs: Any) -> ImageEmbeddings:
        resp = await self.request("POST", "/v1/embed/image", headers={"Accept": self._accept}, **kwargs)
        vectors, version, errors = self._decode(resp)
        return ImageEmbeddings(vectors, version, errors)

    async def embed_images(self, files: Sequence[bytes]) -> ImageEmbeddings:
        """Embed uploaded image files; a bad file gets an error in the result, not a failed call."""
        multipart = [("files", (f"{i}", data, "application/octet-stream")) for i, data in enumerate(files)]
        return await self._tolerant(len(files), files=multipart)

    async def embed_image(self, data: bytes) -> tuple[np.ndarray, str]:
        """One image (a query): float32 [D] and the model version; a bad image raises ServiceError."""
        resp = await self._embed_images(files=[("files", ("image", data, "application/octet-stream"))])
        return resp.vectors[0], resp.model_version

    async def embed_image_keys(self, keys: Sequence[str]) -> ImageEmbeddings:
        """Embed images the encoder reads from object storage by key."""
        return await self._tolerant(len(keys), json={"keys": list(keys)})

    async def _tolerant(self, count: int, **kwargs: Any) -> ImageEmbeddings:
        """A one-image request's 4xx back into a per-image error (row size from `/v1/model`)."""
        try:
            return await self._embed_images(**kwargs)
        except ServiceError as exc:
            error = _single_image_error(exc, count)
            if error is None:
                raise
        info = await self.model_info()
        return ImageEmbeddings(np.full((1, info.dim), np.nan, np.float32), info.version, {0: error})


def _single_image_error(exc: ServiceError, count: int) -> ErrorDetail | None:
    """The per-image error inside a one-image request's 4xx, or None for any other failure."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") or {}
    details = error.get("details") or {}
    if count != 1 or details.get("index") != 0 or error.get("code") not in IMAGE_ERRORS:
        return None
    return ErrorDetail(code=error["code"], message=error.get("message", ""))

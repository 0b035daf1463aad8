"""Client of one search replica: queries go as msgpack with raw float32 vectors."""

from __future__ import annotations

import msgpack
import numpy as np

from services.common.clients.base import ServiceClient
from services.common.schemas.search import (
    SEARCH_MSGPACK,
    SearchParams,
    SearchRequest,
    SearchResponse,
    ShardAssignment,
)


def encode_search(vectors: np.ndarray, params: SearchParams) -> bytes:
    x = np.ascontiguousarray(np.atleast_2d(vectors), dtype="<f4")
    body = {"params": params.model_dump(mode="json"), "shape": list(x.shape), "vectors": x.tobytes()}
    return bytes(msgpack.packb(body, use_bin_type=True))


class SearchClient(ServiceClient):
    service = "search"

    async def search(self, request: SearchRequest) -> SearchResponse:
        params = SearchParams.model_validate(request.model_dump(exclude={"vectors"}))
        return await self.search_vectors(np.asarray(request.vectors, dtype=np.float32), params)

    async def search_vectors(self, vectors: np.ndarray, params: SearchParams) -> SearchResponse:
        """k-NN for float32 [n, d] (or [d]) query vectors over this replica's shards."""
        resp = await self.request(
            "POST",
            "/v1/search",
            fast=True,
            content=encode_search(vectors, params),
            headers={"Content-Type": SEARCH_MSGPACK},
        )
        return SearchResponse.model_validate_json(resp.content)

    async def shards(self) -> ShardAssignment:
        return ShardAssignment.model_validate_json((await self.request("GET", "/v1/shards")).content)

"""The encoder's bulk path as the ingestor's `Embedder`."""

from __future__ import annotations

from services.common.clients.encoder import EncoderClient
from services.indexer.ingest import EmbedBatch


class EncoderEmbedder:
    def __init__(self, client: EncoderClient) -> None:
        self.client = client

    async def embed_keys(self, keys: list[str]) -> EmbedBatch:
        result = await self.client.embed_image_keys(keys)
        errors = {i: (e.code, e.message) for i, e in result.errors.items()}
        rows: list[int | None] = [None if i in errors else i for i in range(len(keys))]
        return EmbedBatch(result.model_version, result.vectors, rows, errors)

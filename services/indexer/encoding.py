"""The encoder's bulk path as the ingestor's `Embedder`: the primary encoder, or the one serving a
model named by the routing (a model switch embeds new images by two models)."""

from __future__ import annotations

from services.common.clients.encoder import EncoderClient
from services.common.clients.encoders import EncoderSet
from services.indexer.ingest import EmbedBatch


class EncoderEmbedder:
    def __init__(self, encoders: EncoderSet | EncoderClient) -> None:
        self.encoders = encoders if isinstance(encoders, EncoderSet) else EncoderSet([encoders])

    async def embed_keys(self, keys: list[str], model_version: str | None = None) -> EmbedBatch:
        client = self.encoders.primary
        if model_version is not None:
            client = (await self.encoders.get(model_version))[0]
        result = await client.embed_image_keys(keys)
        errors = {i: (e.code, e.message) for i, e in result.errors.items()}
        rows: list[int | None] = [None if i in errors else i for i in range(len(keys))]
        return EmbedBatch(result.model_version, result.vectors, rows, errors)

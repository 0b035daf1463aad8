"""The encoder service: text and image embeddings from one checkpoint, batched, on GPU when present."""

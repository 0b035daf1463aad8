"""The search service: nearest-neighbour queries over the FAISS shards this replica holds."""

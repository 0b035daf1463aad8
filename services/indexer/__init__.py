"""The indexer service: ingestion jobs, vectors in object storage, FAISS shards and versions."""

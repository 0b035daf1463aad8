"""Running Tìm Ảnh: the local stack runner here; Dockerfiles and manifests beside it."""

"""The gateway: Tìm Ảnh's public REST API, its cache and its image storage."""

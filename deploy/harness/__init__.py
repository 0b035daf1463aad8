"""What tests and benchmarks share to drive a real Tìm Ảnh: its processes started on free ports, a
private Redis, the public API over HTTP, readiness polling, demo images and tiny model families."""

"""Shared contracts of the Tìm Ảnh services: schemas, clients, settings, storage, cache.

This package is deliberately light: it never imports torch or faiss, so the gateway
and every client stay small. Services depend on it; it depends on no service.
"""

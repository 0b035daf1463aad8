"""Typed async HTTP clients of each service."""

from services.common.clients.base import ServiceClient, ServiceError, ServiceUnavailable
from services.common.clients.encoder import EncoderClient
from services.common.clients.indexer import IndexerClient
from services.common.clients.search import SearchClient

__all__ = [
    "EncoderClient",
    "IndexerClient",
    "SearchClient",
    "ServiceClient",
    "ServiceError",
    "ServiceUnavailable",
]

"""Client of the indexer service."""

from services.common.clients.base import ServiceClient


class IndexerClient(ServiceClient):
    service = "indexer"

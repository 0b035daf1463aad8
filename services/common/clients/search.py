"""Client of the search service."""

from services.common.clients.base import ServiceClient


class SearchClient(ServiceClient):
    service = "search"

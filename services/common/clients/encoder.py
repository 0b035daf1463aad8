"""Client of the encoder service."""

from services.common.clients.base import ServiceClient


class EncoderClient(ServiceClient):
    service = "encoder"

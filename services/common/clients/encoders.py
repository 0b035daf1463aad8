"""The encoder deployments a service knows, found by the model each one serves.

During a model switch two encoders run: the one serving queries and the one of the model being
built (`*_ENCODER_URL` and `*_ENCODER_ALT_URLS`). Callers ask for a model version and get the
client of the encoder that serves it; which URL serves which model is asked of the encoders
(`/v1/model`) and kept for `refresh_s`, so an operator can redeploy either one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from services.common.clients.base import ServiceError, ServiceUnavailable
from services.common.clients.encoder import EncoderClient
from services.common.errors import ApiError
from services.common.schemas.encoder import ModelInfo


class EncoderSet:
    def __init__(self, clients: Sequence[EncoderClient], refresh_s: float = 10.0) -> None:
        if not clients:
            raise ValueError("at least one encoder")
        self.clients = list(clients)
        self.primary = self.clients[0]
        self.refresh_s = refresh_s
        self._known: tuple[float, dict[str, tuple[EncoderClient, ModelInfo]]] | None = None
        self._lock = asyncio.Lock()

    async def _ask(self, client: EncoderClient) -> ModelInfo | None:
        try:
            return await client.model_info()
        except (ServiceError, ServiceUnavailable, OSError, TimeoutError):
            return None

    async def served(self, fresh: bool = False) -> dict[str, tuple[EncoderClient, ModelInfo]]:
        """Model version -> (client, its model info) of every encoder that answers."""
        known = self._known
        if not fresh and known is not None and time.monotonic() - known[0] < self.refresh_s:
            return known[1]
        async with self._lock:
            if not fresh and self._known is not None and self._known is not known:
                return self._known[1]
            infos = await asyncio.gather(*(self._ask(c) for c in self.clients))
            found: dict[str, tuple[EncoderClient, ModelInfo]] = {}
            for client, info in zip(self.clients, infos, strict=True):
                if info is not None:
                    found.setdefault(info.version, (client, info))
            self._known = (time.monotonic(), found)
            return found

    async def get(self, model_version: str) -> tuple[EncoderClient, ModelInfo]:
        """The encoder serving `model_version` and its info; 503 when none of them does.

        The encoder that served it last is asked first and alone, so one encoder that is down or
        slow (the other model's, say) costs nothing while the serving one answers."""
        cached = self._known
        known = cached[1].get(model_version) if cached is not None else None
        if cached is not None and known is not None:
            if time.monotonic() - cached[0] < self.refresh_s:
                return known
            info = await self._ask(known[0])
            if info is not None and info.version == model_version:
                self._known = (time.monotonic(), {**cached[1], model_version: (known[0], info)})
                return known[0], info
        served = await self.served(fresh=True)
        if model_version not in served:
            raise ApiError(
                503,
                "model_unavailable",
                f"No encoder serves model {model_version}; the encoders answering serve "
                f"{sorted(served) or 'nothing'}.",
            )
        return served[model_version]

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()

"""What the lifespan built, handed to routes as `Annotated` dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.search.engine import SearchEngine
from services.search.settings import SearchSettings


@dataclass
class SearchRuntime:
    engine: SearchEngine
    settings: SearchSettings


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def` one on a
# worker thread, a hand-off per dependency per request that costs more than what it does.
async def get_runtime(request: Request) -> SearchRuntime:
    runtime: SearchRuntime = request.app.state.runtime
    return runtime


async def get_engine(runtime: Annotated[SearchRuntime, Depends(get_runtime)]) -> SearchEngine:
    return runtime.engine


async def get_settings(runtime: Annotated[SearchRuntime, Depends(get_runtime)]) -> SearchSettings:
    return runtime.settings


EngineDep = Annotated[SearchEngine, Depends(get_engine)]
SettingsDep = Annotated[SearchSettings, Depends(get_settings)]

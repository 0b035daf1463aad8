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


def get_runtime(request: Request) -> SearchRuntime:
    runtime: SearchRuntime = request.app.state.runtime
    return runtime


def get_engine(runtime: Annotated[SearchRuntime, Depends(get_runtime)]) -> SearchEngine:
    return runtime.engine


def get_settings(runtime: Annotated[SearchRuntime, Depends(get_runtime)]) -> SearchSettings:
    return runtime.settings


EngineDep = Annotated[SearchEngine, Depends(get_engine)]
SettingsDep = Annotated[SearchSettings, Depends(get_settings)]

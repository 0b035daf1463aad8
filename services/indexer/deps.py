"""What the lifespan built, handed to routes as an `Annotated` dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.common.catalog import Catalog
from services.common.storage import ObjectStore
from services.indexer.deletes import Deleter
from services.indexer.publisher import Publisher
from services.indexer.queue import JobQueue
from services.indexer.sources import SourcePolicy
from services.indexer.switching import SwitchRunner


@dataclass
class IndexerRuntime:
    store: ObjectStore
    queue: JobQueue
    publisher: Publisher
    deleter: Deleter
    catalog: Catalog
    policy: SourcePolicy
    switch: SwitchRunner


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def` one on a
# worker thread, a hand-off per dependency per request that costs more than what it does.
async def get_runtime(request: Request) -> IndexerRuntime:
    runtime: IndexerRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[IndexerRuntime, Depends(get_runtime)]

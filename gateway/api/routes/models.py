"""`/model-switch`: the deployment's model, and switching it with no downtime (admin keys only).

The indexer runs the switch (`services/indexer/switching.py`); these routes are its public face:
`POST {"action": "start", "to": VERSION}` builds every collection's index for the new model while
the current one serves, `flip` makes it serve, `rollback` goes back, `collect` drops the old one.
"""

from __future__ import annotations

from fastapi import APIRouter

from gateway.access import Permission
from gateway.api.errors import errors
from gateway.deps import Principal, ResourcesDep
from services.common.schemas.indexer import ModelSwitchRequest, ModelSwitchStatus

router = APIRouter(prefix="/model-switch", tags=["models"])


@router.get("", response_model=ModelSwitchStatus, responses=errors(403, 503))
async def model_switch_status(res: ResourcesDep, caller: Principal) -> ModelSwitchStatus:
    """Which model serves, which one a switch builds or keeps for a rollback, how far a build is."""
    caller.require(Permission.MANAGE_MODELS)
    return await res.indexer.model_switch_status()


@router.post("", response_model=ModelSwitchStatus, responses=errors(403, 409, 503))
async def model_switch(body: ModelSwitchRequest, res: ResourcesDep, caller: Principal) -> ModelSwitchStatus:
    """One step of a switch; `start` answers at once and builds in the background (poll the status).
    A step the current state does not allow (a flip before the build is complete, a rollback with
    no previous model) is a 409 saying why."""
    caller.require(Permission.MANAGE_MODELS)
    return await res.indexer.model_switch(body)

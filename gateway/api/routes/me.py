"""`/me`: the role of the calling API key and what it may do, so a client can show only that."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.errors import errors
from gateway.deps import Principal, ResourcesDep
from services.common.schemas.public import Identity

router = APIRouter(prefix="/me", tags=["me"])


@router.get("", response_model=Identity, responses=errors())
async def whoami(caller: Principal, res: ResourcesDep) -> Identity:
    return Identity(
        role=caller.role.value,
        key_id=caller.id if res.auth.enabled else "",
        auth_required=res.auth.enabled,
        permissions=sorted(p.value for p in caller.permissions),
    )

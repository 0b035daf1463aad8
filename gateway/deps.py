"""Resources the lifespan opened, handed to routes as `Annotated` dependencies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gateway.access import Caller, Permission
from gateway.guard import CALLER_STATE
from gateway.resources import Resources, image_or_404
from services.common.catalog import CollectionRecord, ImageRecord
from services.common.errors import ApiError

if TYPE_CHECKING:  # the planner's module imports this one (through hydrate and the image routes)
    from gateway.engine import QueryPlanner


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def` one on a
# worker thread, a hand-off per dependency per request that costs more than what it does.
async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_planner(request: Request) -> QueryPlanner:
    planner: QueryPlanner = request.app.state.planner
    return planner


PlannerDep = Annotated["QueryPlanner", Depends(get_planner)]


# Declared so the OpenAPI schema documents both ways to send a key; the middleware reads them.
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key")
BEARER = HTTPBearer(auto_error=False, description="The same API key as a bearer token")


def caller_of(request: Request) -> Caller:
    """The caller `ApiAuthMiddleware` authenticated before the request reached any route."""
    caller = request.scope.get("state", {}).get(CALLER_STATE)
    if not isinstance(caller, Caller):
        raise ApiError(401, "missing_api_key", "Send an API key in X-API-Key or Authorization: Bearer.")
    return caller


async def current_caller(request: Request) -> Caller:
    return caller_of(request)


async def authenticate(
    request: Request,
    _key: Annotated[str | None, Security(API_KEY_HEADER)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
) -> Caller:
    """The `/api/v1` router's own dependency: documents the key and refuses a request without a caller."""
    return caller_of(request)


Principal = Annotated[Caller, Depends(current_caller)]


ID_PATTERN = r"^[A-Za-z0-9_-]+$"
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]


async def visible_collection(collection_id: str, res: Resources, caller: Caller) -> CollectionRecord:
    """404 for a collection the caller does not see, exactly as for one that does not exist."""
    record = await asyncio.to_thread(res.catalog.get_collection, collection_id)
    if record is None or not caller.sees(record):
        raise ApiError(404, "collection_not_found", f"No collection with id {collection_id!r}.")
    return record


async def visible_image(
    image_id: str, res: Resources, caller: Caller
) -> tuple[ImageRecord, CollectionRecord | None]:
    """The image and its collection; 404 when the caller does not see that collection."""
    record = await image_or_404(image_id, res)
    if caller.sees_all or caller.signed:
        return record, None
    collection = await asyncio.to_thread(res.catalog.get_collection, record.collection_id)
    if collection is None or not caller.sees(collection):
        raise ApiError(404, "image_not_found", f"No image with id {image_id!r}.")
    return record, collection


def owned(caller: Caller, permission: Permission, record: CollectionRecord | None) -> None:
    """403 unless the role allows `permission` and the caller owns the collection (admins own all)."""
    caller.require(permission)
    if record is not None and not caller.owns(record):
        raise ApiError(
            403,
            "not_owner",
            "This collection is shared with every key; only an admin key may change it.",
            {"collection_id": record.id},
        )


async def _readable_collection(
    collection_id: IdPath, res: ResourcesDep, caller: Principal
) -> CollectionRecord:
    return await visible_collection(collection_id, res, caller)


def _collection_for(permission: Permission) -> Callable[..., Awaitable[CollectionRecord]]:
    async def dependency(collection_id: IdPath, res: ResourcesDep, caller: Principal) -> CollectionRecord:
        caller.require(permission)  # before the lookup: a read key learns nothing from a delete
        record = await visible_collection(collection_id, res, caller)
        owned(caller, permission, record)
        return record

    return dependency


async def _readable_image(image_id: IdPath, res: ResourcesDep, caller: Principal) -> ImageRecord:
    return (await visible_image(image_id, res, caller))[0]


def _image_for(permission: Permission) -> Callable[..., Awaitable[ImageRecord]]:
    async def dependency(image_id: IdPath, res: ResourcesDep, caller: Principal) -> ImageRecord:
        caller.require(permission)
        record, collection = await visible_image(image_id, res, caller)
        owned(caller, permission, collection)
        return record

    return dependency


CollectionDep = Annotated[CollectionRecord, Depends(_readable_collection)]
UploadCollectionDep = Annotated[CollectionRecord, Depends(_collection_for(Permission.UPLOAD))]
DeleteCollectionDep = Annotated[CollectionRecord, Depends(_collection_for(Permission.DELETE))]
ImportCollectionDep = Annotated[CollectionRecord, Depends(_collection_for(Permission.IMPORT))]
EditCollectionDep = Annotated[CollectionRecord, Depends(_collection_for(Permission.EDIT))]
ImageDep = Annotated[ImageRecord, Depends(_readable_image)]
DeleteImageDep = Annotated[ImageRecord, Depends(_image_for(Permission.DELETE))]
EditImageDep = Annotated[ImageRecord, Depends(_image_for(Permission.EDIT))]

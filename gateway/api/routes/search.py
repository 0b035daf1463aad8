"""`/search` and `/search/image`: images by a Vietnamese description, or by another image."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from gateway.answers import KEEP_STATE, KeepAs
from gateway.api.errors import errors
from gateway.deps import PlannerDep, Principal, ResourcesDep, visible_image
from gateway.engine import Outcome, Page, TextOptions
from gateway.query import normalize_query
from services.common.catalog import image_key
from services.common.errors import ApiError
from services.common.images import ImageDecodeError, crop_region, decode
from services.common.schemas.public import (
    RefineQuery,
    Region,
    SearchQuery,
    SearchResponse,
    SimilarByImageId,
)

router = APIRouter(prefix="/search", tags=["search"])
MISSING_HEADER = "X-Missing-Shards"
SKIPPED_HEADER = "X-Skipped-Collections"


def _answer(response: Response, outcome: Outcome) -> SearchResponse:
    """The body, and headers naming what a partial answer lacks: shards, or unsearched collections."""
    if outcome.missing:
        response.headers[MISSING_HEADER] = ",".join(outcome.missing)
    if outcome.skipped:
        response.headers[SKIPPED_HEADER] = ",".join(outcome.skipped)
    return outcome.response


@router.post("", response_model=SearchResponse, responses=errors(404, 503))
async def search(
    request: Request,
    body: SearchQuery,
    response: Response,
    res: ResourcesDep,
    caller: Principal,
    planner: PlannerDep,
) -> SearchResponse:
    # A repeated search is answered before it gets here (gateway/answers.py); this keeps the answer.
    query = normalize_query(body.query)
    page = await _scoped(_page_of(body), res, caller)
    keep = request.scope.get("state", {}).get(KEEP_STATE)
    if isinstance(keep, KeepAs):  # records read under the epoch read before routing may be reused
        page = replace(page, epoch=keep.epoch)
    options = TextOptions(body.mode, tuple(normalize_query(p) for p in body.exclude), body.fusion)
    outcome = await planner.search_text(query, page, options)
    if isinstance(keep, KeepAs) and outcome.response.model_version == keep.model_version:
        expires = planner.hydrator.expires(outcome.response.results)
        res.answers.put(keep.key, keep.epoch, outcome.response, expires)
    return _answer(response, outcome)


def _page_of(params: SearchQuery | SimilarByImageId | RefineQuery) -> Page:
    return Page(
        params.collection_id,
        params.top_k,
        params.offset,
        params.min_score,
        filters=params.filters,
        order=params.order,
    )


def _not_found(collection_id: str) -> ApiError:
    return ApiError(404, "collection_not_found", f"No collection with id {collection_id!r}.")


async def _scoped(page: Page, res: ResourcesDep, caller: Principal) -> Page:
    """The caller's view: a collection it does not see is a 404, "all" covers those it sees.

    An admin sees every collection, so its searches cost no lookup (the planner answers 404
    for a collection that does not exist). The filter's `collection_ids` are checked in one
    query, for every caller; with `collection_id` too, the search covers what both name."""
    wanted = page.filters.collection_ids if page.filters is not None else None
    if wanted is not None:
        unseen = await res.directory.unseen(caller, wanted)
        if unseen:
            raise _not_found(unseen[0])
        if not page.collection_id:
            return replace(page, scope=tuple(sorted(set(wanted))))
        if page.collection_id not in wanted:
            return replace(page, collection_id=None, scope=())
    if page.collection_id:
        if not await res.directory.sees(caller, page.collection_id):
            raise _not_found(page.collection_id)
        return page
    return replace(page, scope=await res.directory.scope(caller))


# Its `ImageFilter` is referred to among the components, where `SearchQuery` puts it.
# `Region` is used only here, so it is written out in place.
_BY_ID_SCHEMA = SimilarByImageId.model_json_schema(ref_template="#/components/schemas/{model}")
_BY_ID_SCHEMA.pop("$defs", None)
_BY_ID_SCHEMA["properties"]["region"] = {
    "anyOf": [Region.model_json_schema(), {"type": "null"}],
    "description": "Search by this part of the image only",
}
_IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "collection_id": {"type": "string", "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$"},
                        "top_k": {"type": "integer", "minimum": 1, "maximum": 200},
                        "offset": {"type": "integer", "minimum": 0, "maximum": 1000},
                        "min_score": {"type": "string", "description": "A cosine in [-1, 1], or `auto`"},
                        "filters": {"type": "string", "description": "An `ImageFilter` as JSON text"},
                        "order": {"type": "string", "enum": ["relevance", "taken_at"]},
                    },
                }
            },
            "application/json": {"schema": _BY_ID_SCHEMA},
        },
    }
}


def _invalid(exc: ValidationError) -> ApiError:
    details = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return ApiError(422, "invalid_request", "The request is not valid.", details)


async def _parse(request: Request, res: ResourcesDep) -> tuple[SimilarByImageId | None, bytes | None, Page]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "missing_file", "Send the image in the multipart field `file`.")
        fields: dict[str, object] = {k: v for k, v in form.items() if isinstance(v, str) and k != "file"}
        try:
            if isinstance(fields.get("filters"), str):  # JSON text in a form field
                fields["filters"] = json.loads(str(fields["filters"]))
        except ValueError as exc:
            raise ApiError(422, "invalid_request", "`filters` is not JSON text.") from exc
        try:
            params = SimilarByImageId.model_validate({"image_id": "upload", **fields})
        except ValidationError as exc:
            raise _invalid(exc) from exc
        data = await upload.read()
        return None, data, _page_of(params)
    if content_type.startswith("application/json"):
        try:
            params = SimilarByImageId.model_validate_json(await request.body())
        except ValidationError as exc:
            raise _invalid(exc) from exc
        return params, None, _page_of(params)
    raise ApiError(
        415, "unsupported_media_type", "Send multipart/form-data with `file`, or JSON with `image_id`."
    )


@router.post(
    "/image", response_model=SearchResponse, responses=errors(404, 415, 503), openapi_extra=_IMAGE_BODY
)
async def search_by_image(
    request: Request, response: Response, res: ResourcesDep, caller: Principal, planner: PlannerDep
) -> SearchResponse:
    by_id, data, page = await _parse(request, res)
    page = await _scoped(page, res, caller)
    exclude: list[str] = []
    if by_id is not None:
        record, _ = await visible_image(by_id.image_id, res, caller)
        data = await res.store.aget(image_key(record.collection_id, record.image_id))
        region = by_id.region
        if region is None:
            exclude = [record.image_id]  # the image itself; a part of it may find it first
            source = f"image:{record.image_id}"
        else:
            box = (region.x, region.y, region.width, region.height)
            try:
                async with res.images.admit():  # decoded and cut on the image pool, like uploads
                    data = await res.images.run(
                        crop_region, data, *box, max_pixels=res.settings.max_image_pixels
                    )
            except ImageDecodeError as exc:
                raise ApiError(422, exc.code, exc.message) from exc
            source = f"region:{record.image_id}:" + ",".join(f"{v:.4f}" for v in box)
    else:
        assert data is not None
        try:
            async with res.images.admit():  # decoded on the image pool, like uploads
                await res.images.run(decode, data, max_pixels=res.settings.max_image_pixels)
        except ImageDecodeError as exc:
            raise ApiError(422, exc.code, exc.message) from exc
        source = "upload:" + hashlib.sha256(data).hexdigest()
    info = await planner.model_info()
    vector, model_version = await planner.encoder(info.version).embed_image(data)
    outcome = await planner.search_vector(source, vector, model_version, page, exclude)
    return _answer(response, outcome)


@router.post("/refine", response_model=SearchResponse, responses=errors(404, 422, 503))
async def refine(
    body: RefineQuery, response: Response, res: ResourcesDep, caller: Principal, planner: PlannerDep
) -> SearchResponse:
    """More like some images, fewer like others, optionally with the text being refined: one
    vector, `weights.query`·text + `weights.positive`·mean(positives) − `weights.negative`·
    mean(negatives), searched like an image; the example images are left out of the results."""
    if not body.positive_ids and not body.query:
        raise ApiError(422, "nothing_to_find", "Give `positive_ids`, a `query`, or both.")
    page = await _scoped(_page_of(body), res, caller)
    positives = [await _example(i, res, caller) for i in dict.fromkeys(body.positive_ids)]
    negatives = [await _example(i, res, caller) for i in dict.fromkeys(body.negative_ids)]
    query = normalize_query(body.query) if body.query else None
    outcome = await planner.refine(query, positives, negatives, body.weights, page)
    return _answer(response, outcome)


async def _example(image_id: str, res: ResourcesDep, caller: Principal) -> tuple[str, str]:
    record, _ = await visible_image(image_id, res, caller)
    return record.collection_id, record.image_id

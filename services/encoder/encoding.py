"""Response forms of a batch of vectors: JSON for people, `.npy` (float32 or float16) for bulk callers.

The form comes from `Accept`; JSON is the default. An `.npy` body is one [N, D] array whose
failed rows are NaN, with the failures' codes in `X-Embed-Errors`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from fastapi.responses import JSONResponse
from starlette.responses import Response

from services.common import npy
from services.common.errors import ApiError, ErrorDetail
from services.common.schemas.encoder import (
    EMBED_ERRORS_HEADER,
    MODEL_VERSION_HEADER,
    NPY_FLOAT16,
    NPY_FLOAT32,
)

Form = Literal["json", "float32", "float16"]


@dataclass
class EmbedResult:
    vectors: np.ndarray  # float32 [N, D]; NaN rows where `errors` has the index
    model_version: str
    errors: dict[int, ErrorDetail] = field(default_factory=dict)


def _media_ranges(accept: str) -> list[tuple[float, str, dict[str, str]]]:
    out = []
    for part in accept.split(","):
        media, *raw = (p.strip() for p in part.split(";"))
        params = dict(p.split("=", 1) for p in raw if "=" in p)
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 0.0
        if media and q > 0:
            out.append((q, media.lower(), {k.lower(): v.strip('"').lower() for k, v in params.items()}))
    return sorted(out, key=lambda r: -r[0])  # stable: equal weights keep the client's order


def negotiate(accept: str | None) -> Form:
    """The form `Accept` prefers among those we offer; 406 when it accepts none of them."""
    if not accept:
        return "json"
    for _, media, params in _media_ranges(accept):
        if media == NPY_FLOAT32:
            dtype = params.get("dtype", "float32")
            if dtype in ("float32", "float16"):
                return "float16" if dtype == "float16" else "float32"
        elif media in ("application/json", "application/*", "*/*"):
            return "json"
    raise ApiError(
        406,
        "not_acceptable",
        "Embeddings are served as application/json or application/x-npy (dtype=float32|float16).",
        {"accept": accept},
    )


def render(result: EmbedResult, form: Form) -> Response:
    headers = {MODEL_VERSION_HEADER: result.model_version}
    if form == "json":
        body = {
            "model_version": result.model_version,
            "dim": int(result.vectors.shape[1]),
            "vectors": [None if i in result.errors else row.tolist() for i, row in enumerate(result.vectors)],
            "errors": {str(i): e.model_dump() for i, e in sorted(result.errors.items())},
        }
        return JSONResponse(body, headers=headers)
    data = npy.dumps(result.vectors.astype(np.float16 if form == "float16" else np.float32, copy=False))
    if result.errors:
        headers[EMBED_ERRORS_HEADER] = json.dumps({str(i): e.code for i, e in sorted(result.errors.items())})
    return Response(data, media_type=NPY_FLOAT16 if form == "float16" else NPY_FLOAT32, headers=headers)

"""`Accept` negotiation and the JSON and `.npy` forms of a batch."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from services.common.errors import ApiError, ErrorDetail
from services.common.schemas.encoder import EMBED_ERRORS_HEADER, MODEL_VERSION_HEADER
from services.encoder.encoding import EmbedResult, negotiate, render


@pytest.mark.parametrize(
    ("accept", "form"),
    [
        (None, "json"),
        ("", "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        ("application/x-npy", "float32"),
        ("application/x-npy; dtype=float16", "float16"),
        ('application/x-npy;dtype="float16"', "float16"),
        ("application/json;q=0.5, application/x-npy", "float32"),
        ("application/x-npy; dtype=float16; q=0.1, application/json", "json"),
        ("text/html, application/x-npy; dtype=int8, */*;q=0.1", "json"),
    ],
)
def test_negotiation_picks_the_preferred_form_we_offer(accept: str | None, form: str) -> None:
    assert negotiate(accept) == form


def test_an_accept_we_cannot_meet_is_406() -> None:
    with pytest.raises(ApiError) as err:
        negotiate("text/html, application/x-npy; dtype=int8")
    assert err.value.status == 406 and err.value.code == "not_acceptable"


def _result() -> EmbedResult:
    vectors = np.array([[0.6, 0.8], [np.nan, np.nan], [1.0, 0.0]], dtype=np.float32)
    return EmbedResult(vectors, "abc123", {1: ErrorDetail(code="corrupt_image", message="Hỏng.")})


def test_json_has_null_for_failed_rows_and_the_reason() -> None:
    resp = render(_result(), "json")
    body = json.loads(bytes(resp.body))
    assert resp.headers[MODEL_VERSION_HEADER] == "abc123"
    assert body["vectors"][1] is None and body["dim"] == 2
    assert body["vectors"][0] == pytest.approx([0.6, 0.8], abs=1e-7)
    assert body["errors"] == {"1": {"code": "corrupt_image", "message": "Hỏng.", "details": None}}


@pytest.mark.parametrize(("form", "dtype"), [("float32", np.float32), ("float16", np.float16)])
def test_npy_keeps_the_rows_and_names_failures_in_a_header(form: str, dtype: type) -> None:
    resp = render(_result(), form)
    array = np.load(io.BytesIO(bytes(resp.body)), allow_pickle=False)
    assert array.dtype == dtype and array.shape == (3, 2)
    assert np.isnan(array[1]).all() and np.allclose(array[[0, 2]], [[0.6, 0.8], [1.0, 0.0]], atol=1e-3)
    assert json.loads(resp.headers[EMBED_ERRORS_HEADER]) == {"1": "corrupt_image"}
    assert resp.headers["content-type"].startswith("application/x-npy")

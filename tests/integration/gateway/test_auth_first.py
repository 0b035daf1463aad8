"""Every `/api/v1` request is authenticated before routing, body parsing or catalog lookups."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from deploy.harness.fullstack import RunningStack

UNKNOWN = "0123456789abcdef"
# (method, path, request keywords): known and unknown ids and routes, bodies that fail to parse.
REQUESTS = [
    ("GET", "/api/v1/collections", {}),
    ("GET", f"/api/v1/collections/{UNKNOWN}", {}),  # was a 404: an existence oracle
    ("GET", "/api/v1/collections/not a valid id", {}),
    ("DELETE", f"/api/v1/collections/{UNKNOWN}", {}),
    (
        "POST",
        "/api/v1/collections",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
    ),
    ("POST", "/api/v1/collections", {"json": {"name": 7}}),
    (
        "POST",
        f"/api/v1/collections/{UNKNOWN}/images",
        {"files": [("files", ("a.png", b"no image", "image/png"))]},
    ),
    (
        "POST",
        f"/api/v1/collections/{UNKNOWN}/images",
        {"content": b"--x\r\ngarbage", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
    ),
    ("POST", f"/api/v1/collections/{UNKNOWN}/import", {"json": {"source": "s3://bucket/"}}),
    ("GET", f"/api/v1/jobs/{UNKNOWN}", {}),
    ("GET", f"/api/v1/images/{UNKNOWN}", {}),
    ("GET", f"/api/v1/images/{UNKNOWN}/content", {}),
    ("GET", f"/api/v1/images/{UNKNOWN}/thumbnail?exp=99999999999&sig=00", {}),
    ("DELETE", f"/api/v1/images/{UNKNOWN}", {}),
    ("POST", "/api/v1/search", {"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}}),
    ("POST", "/api/v1/search", {"json": {"query": "hai ngôi sao", "collection_id": UNKNOWN}}),
    ("POST", "/api/v1/search/image", {"content": b"x", "headers": {"Content-Type": "text/plain"}}),
    ("GET", "/api/v1/me", {}),
    ("GET", "/api/v1/no-such-route", {}),
    ("PUT", "/api/v1/collections", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), REQUESTS, ids=[f"{m} {p}" for m, p, _ in REQUESTS])
@pytest.mark.parametrize("key", [None, "not-a-key", "khóa-sai"], ids=["no key", "wrong key", "non-ascii key"])
def test_unauthenticated_requests_get_401_whatever_the_path_or_body(
    system: RunningStack, method: str, path: str, kwargs: dict[str, Any], key: str | None
) -> None:
    kwargs = dict(kwargs)
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers["X-API-Key"] = key.encode()  # the key's UTF-8 bytes on the wire
    with httpx.Client(base_url=system.gateway, timeout=30) as client:
        resp = client.request(method, path, headers=headers, **kwargs)
    assert resp.status_code == 401, resp.text
    code = "missing_api_key" if key is None else "invalid_api_key"
    assert resp.json()["error"]["code"] == code


def test_an_oversized_body_is_refused_from_its_headers_as_unauthenticated(system: RunningStack) -> None:
    """A 401 from the headers alone (it used to be the body limit's 413), never reading the body."""
    url = urlsplit(system.gateway)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(
            b"POST /api/v1/collections/x/images HTTP/1.1\r\nHost: gateway\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000000\r\n\r\n"
        )
        answer = b""
        while b"missing_api_key" not in answer:  # headers and body may arrive in separate packets
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    text = answer.decode("latin-1")
    assert text.startswith("HTTP/1.1 401"), text
    assert "missing_api_key" in text


def test_with_a_key_the_same_requests_reach_their_routes(api: httpx.Client) -> None:
    assert api.get(f"/api/v1/collections/{UNKNOWN}").status_code == 404
    assert api.get("/api/v1/no-such-route").status_code == 404
    bad = api.post("/api/v1/collections", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 422

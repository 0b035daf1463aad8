"""The framework ceiling: one bare FastAPI route under uvicorn, answering a canned search page.

    python -m bench.bare_app --port 9001 --body response.json

It validates the same request model as the gateway's `/api/v1/search` and returns the bytes
of a real gateway answer, so the only difference from the gateway is the work a search does.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Response

from services.common.schemas.public import SearchQuery


def create_app(body: bytes) -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/search")
    async def search(query: SearchQuery) -> Response:
        return Response(body, media_type="application/json")

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True)
    args = parser.parse_args(argv)
    app = create_app(args.body.read_bytes())
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

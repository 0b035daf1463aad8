"""A closed-loop HTTP load generator, run as its own process so it never shares a CPU budget
with the server's event loop.

    python -m bench.loadgen --url http://127.0.0.1:7860 --path /api/v1/search \\
        --bodies queries.jsonl --clients 8 --seconds 5 [--unique]

Each of `--clients` keep-alive connections sends JSON bodies back to back (taken in turn
from `--bodies`; with `--unique` a counter is appended to `query`, so no two requests are
alike) and the latencies of the requests completed in the timed window are printed as one
JSON object. The client speaks just enough HTTP/1.1 for this: httpx spends more CPU per
request than a cached search costs, and on a small machine the generator would be what
is measured, so it stays as cheap as wrk.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path

_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


class Connection:
    """A keep-alive HTTP/1.1 client with almost no per-request CPU: on a small machine a
    heavier client (httpx) would be what the benchmark measures."""

    def __init__(self, host: str, port: int, accept: str = "application/json") -> None:
        self.host, self.port, self.accept = host, port, accept
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Accept: {self.accept}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        headers = await self.reader.readuntil(b"\r\n\r\n")
        match = _LENGTH.search(headers)
        if match is None:
            raise RuntimeError(f"no Content-Length in {headers[:200]!r}")
        payload = await self.reader.readexactly(int(match.group(1)))
        return int(headers.split(b" ", 2)[1]), payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def run(
    url: str, path: str, bodies: list[dict[str, object]], clients: int, seconds: float, unique: bool
) -> dict[str, object]:
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    counter = itertools.count()
    salt = os.getpid()  # no two runs ask the same "unique" query
    latencies: list[float] = []
    errors: dict[str, int] = {}
    cached = 0
    deadline = 0.0

    def next_body() -> bytes:
        i = next(counter)
        body = dict(bodies[i % len(bodies)])
        if unique:
            body["query"] = f"{body['query']} #{salt}.{i}"
        return json.dumps(body, ensure_ascii=False).encode()

    async def client() -> None:
        nonlocal cached
        conn = Connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    status, payload = await conn.post_json(path, next_body())
                except (OSError, asyncio.IncompleteReadError, RuntimeError) as exc:
                    conn.close()
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                if status != 200:
                    errors[str(status)] = errors.get(str(status), 0) + 1
                    continue
                latencies.append(time.perf_counter() - start)
                cached += b'"cached":true' in payload
        finally:
            conn.close()

    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    return {
        "latencies_ms": [round(t * 1000, 3) for t in latencies],
        "elapsed_s": elapsed,
        "errors": errors,
        "cached": cached,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", default="/api/v1/search")
    parser.add_argument("--bodies", type=Path, required=True, help="one JSON request body a line")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--unique", action="store_true", help="append a counter to each query")
    args = parser.parse_args(argv)
    bodies = [json.loads(line) for line in args.bodies.read_text(encoding="utf-8").splitlines() if line]
    result = asyncio.run(run(args.url, args.path, bodies, args.clients, args.seconds, args.unique))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""HTTP/1.1 keep-alive connections with almost no per-request work, for the hot calls between services.

A query's path crosses two services (the encoder, the search replicas); through httpx each call
cost about 3 ms of client work on a 2-core machine, more than the encoder's forward. Here one
call is a write of the request and two reads (the head, then exactly `Content-Length` bytes),
on a connection kept open for the next call. Only what the services answer is supported: a
response with a `Content-Length`; anything else (chunked, an upgrade) raises `Unsupported`, and
the caller sends that request another way. A connection the peer closed while it was idle is
noticed on the next write or read, and that request is sent once more on a new connection:
callers use it for idempotent requests only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from urllib.parse import urlsplit

import httpx

MAX_HEAD = 64 * 1024


class Unsupported(Exception):
    """A response this client does not read (no Content-Length): send the request another way."""


class KeepAlivePool:
    def __init__(self, base_url: str, timeout_s: float, max_idle: int = 32) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"keep-alive connections need an http:// URL, not {base_url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout_s, self.max_idle = timeout_s, max_idle
        self._idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = deque()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST `body`; the answer as an httpx.Response. Raises OSError / TimeoutError on failure."""
        head = [f"POST {self.prefix}{path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for attempt in range(2):
            reused = bool(self._idle) and attempt == 0
            conn = self._idle.pop() if reused else await self._open()
            try:
                return await asyncio.wait_for(self._exchange(conn, request), self.timeout_s)
            except TimeoutError:  # an OSError too, but no sign of a closed connection: never resent
                _close(conn)
                raise
            except (OSError, asyncio.IncompleteReadError) as exc:
                _close(conn)
                if reused:  # the peer closed it while idle: once more on a new connection
                    continue
                raise ConnectionError(f"{self.host}:{self.port}: {exc!r}") from exc
            except BaseException:
                _close(conn)
                raise
        raise ConnectionError(f"{self.host}:{self.port}: no answer")  # not reached

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout_s)

    async def _exchange(
        self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
    ) -> httpx.Response:
        reader, writer = conn
        writer.write(request)
        raw = await reader.readuntil(b"\r\n\r\n")
        if len(raw) > MAX_HEAD:
            raise Unsupported("response head too large")
        lines = raw[:-4].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = [tuple(line.split(":", 1)) for line in lines[1:] if ":" in line]
        fields = {k.strip().lower(): v.strip() for k, v in headers}
        if "content-length" not in fields:
            _close(conn)
            raise Unsupported("a response without Content-Length")
        content = await reader.readexactly(int(fields["content-length"]))
        if fields.get("connection", "").lower() == "close" or len(self._idle) >= self.max_idle:
            _close(conn)
        else:
            self._idle.append(conn)
        return httpx.Response(status, headers=[(k.strip(), v.strip()) for k, v in headers], content=content)

    async def aclose(self) -> None:
        while self._idle:
            _close(self._idle.pop())


def _close(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
    with contextlib.suppress(Exception):
        conn[1].close()

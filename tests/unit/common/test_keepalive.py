"""Lean keep-alive connections against real sockets: reuse, a connection the peer closed, answers
it cannot read (sent again through httpx), dead and silent peers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from services.common.clients.base import ServiceClient, ServiceUnavailable
from services.common.clients.keepalive import KeepAlivePool, Unsupported

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return await reader.readexactly(length)


class Server:
    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.close_after_each = False
        self.chunked = False
        self.silent = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                body = await _read_request(reader)
                self.requests.append(body)
                if self.silent:
                    await asyncio.sleep(5)
                answer = b'{"echo":' + body + b"}"
                if self.chunked:
                    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    writer.write(head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(answer), answer))
                else:
                    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    writer.write(head % len(answer) + answer)
                await writer.drain()
                if self.close_after_each:
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return


@pytest.fixture
async def server() -> AsyncIterator[tuple[Server, str]]:
    srv = Server()
    listener = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    yield srv, f"http://127.0.0.1:{port}"
    listener.close()


async def test_calls_share_one_connection(server: tuple[Server, str]) -> None:
    srv, url = server
    pool = KeepAlivePool(url, 5)
    for i in range(5):
        resp = await pool.post("/x", b"%d" % i, {"Content-Type": "application/json"})
        assert resp.status_code == 200 and resp.json() == {"echo": i}
    assert srv.connections == 1
    await pool.aclose()


async def test_a_connection_the_peer_closed_is_replaced_and_the_request_sent_again(
    server: tuple[Server, str],
) -> None:
    srv, url = server
    srv.close_after_each = True
    pool = KeepAlivePool(url, 5)
    for i in range(3):
        assert (await pool.post("/x", b"%d" % i, {})).json() == {"echo": i}
    assert srv.connections == 3 and srv.requests == [b"0", b"1", b"2"]
    await pool.aclose()


async def test_an_answer_without_content_length_is_left_to_httpx(server: tuple[Server, str]) -> None:
    srv, url = server
    srv.chunked = True
    pool = KeepAlivePool(url, 5)
    with pytest.raises(Unsupported):
        await pool.post("/x", b"1", {})
    client = ServiceClient(url, 5)
    resp = await client.request("POST", "/x", fast=True, content=b"7")
    assert resp.json() == {"echo": 7}  # sent again, through httpx, which reads chunked bodies
    await client.aclose()
    await pool.aclose()


async def test_dead_and_silent_peers_are_unavailable(server: tuple[Server, str]) -> None:
    srv, url = server
    srv.silent = True
    client = ServiceClient(url, 0.3)
    with pytest.raises(ServiceUnavailable, match="timed out"):
        await client.request("POST", "/x", fast=True, content=b"1")
    await client.aclose()
    dead = ServiceClient("http://127.0.0.1:1", 0.3)
    with pytest.raises(ServiceUnavailable, match="unreachable"):
        await dead.request("POST", "/x", fast=True, json={"q": "hình tròn"})
    await dead.aclose()

"""Heavy uploads against a running gateway, with light routes timed meanwhile.

Large-pixel PNGs of one colour are small on the wire and slow to decode: a few of them keep
a gateway's image work busy for seconds. Used by the gateway's integration tests and by
`bench/upload_stall.py`, so both measure the same thing.
"""

from __future__ import annotations

import asyncio
import io
import struct
import time
import zlib
from dataclasses import dataclass, field

import httpx
from PIL import Image


def large_pngs(count: int, side: int = 5000, tag: str = "") -> list[bytes]:
    """`count` distinct PNGs of `side`×`side` pixels (one encode; each differs by a text chunk)."""
    out = io.BytesIO()
    Image.new("RGB", (side, side), (40, 120, 200)).save(out, format="PNG", compress_level=1)
    base = out.getvalue()
    ihdr_end = 8 + 25  # signature, then the IHDR chunk: length, type, 13 bytes, crc
    pngs = []
    for i in range(count):
        text = f"n\x00{tag}{i}".encode()
        chunk = struct.pack(">I", len(text)) + b"tEXt" + text
        chunk += struct.pack(">I", zlib.crc32(b"tEXt" + text))
        pngs.append(base[:ihdr_end] + chunk + base[ihdr_end:])
    return pngs


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class StallReport:
    upload_status: list[int]
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)  # while the uploads run
    idle_ms: dict[str, list[float]] = field(default_factory=dict)  # just before they start
    upload_s: float = 0.0

    def p(self, path: str, q: float, *, idle: bool = False) -> float:
        return percentile((self.idle_ms if idle else self.latencies_ms)[path], q)


async def _probe(
    client: httpx.AsyncClient, paths: list[str], into: dict[str, list[float]], until: asyncio.Event | int
) -> None:
    """Each path in turn, as fast as they answer, until the event is set (or for that many rounds)."""
    rounds = 0
    while not (until.is_set() if isinstance(until, asyncio.Event) else rounds >= until):
        rounds += 1
        for path in paths:
            t0 = time.perf_counter()
            resp = await client.get(path)
            into.setdefault(path, []).append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])


async def uploads_with_probes(
    base_url: str,
    headers: dict[str, str],
    collection_id: str,
    batches: list[list[bytes]],
    paths: list[str],
    idle_rounds: int = 30,
) -> StallReport:
    """Time GETs of `paths` one after another, idle, then while every batch is uploaded at once."""
    report = StallReport(upload_status=[])
    done = asyncio.Event()
    async with (
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=300) as uploader,
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as prober,
    ):
        await _probe(prober, paths, report.idle_ms, idle_rounds)

        async def one(batch: list[bytes]) -> int:
            files = [("files", (f"large-{i}.png", data, "image/png")) for i, data in enumerate(batch)]
            resp = await uploader.post(f"/api/v1/collections/{collection_id}/images", files=files)
            return resp.status_code

        probe = asyncio.create_task(_probe(prober, paths, report.latencies_ms, done))
        t0 = time.perf_counter()
        try:
            report.upload_status = list(await asyncio.gather(*(one(b) for b in batches)))
        finally:
            report.upload_s = time.perf_counter() - t0
            done.set()
            await probe
    return report

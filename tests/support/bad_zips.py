"""Zip archives with one unreadable member, made in code: encrypted, or its compressed stream garbled."""

from __future__ import annotations

import io
import zipfile


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def spoiled(archive: bytes, name: str, *, encrypt: bool = False) -> bytes:
    """The archive with one member marked encrypted (in both its headers), or its compressed bytes garbled."""
    data = bytearray(archive)
    info = zipfile.ZipFile(io.BytesIO(archive)).getinfo(name)
    if encrypt:
        data[info.header_offset + 6] |= 0x1  # the local header's flags
        entry = data.index(b"PK\x01\x02")
        while not data[entry + 46 :].startswith(name.encode()):
            entry = data.index(b"PK\x01\x02", entry + 4)
        data[entry + 8] |= 0x1  # the central directory's flags
        return bytes(data)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 4, start + info.compress_size - 4):
        data[i] ^= 0xAB
    return bytes(data)


def with_bad_member(good: dict[str, bytes], bad: bytes, method: int, *, encrypt: bool = False) -> bytes:
    """`good` members around one `bad.png` that cannot be read (`bad` should be a few KB, so
    garbling its stream breaks the decompressor, not only the checksum)."""
    names = list(good)
    members = {names[0]: good[names[0]], "bad.png": bad, **{n: good[n] for n in names[1:]}}
    return spoiled(zipped(members, method), "bad.png", encrypt=encrypt)

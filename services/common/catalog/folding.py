"""Accent folding for keyword search: "Phở Thìn", "PHO THIN" and "pho thin" are the same words.

One function serves the stored documents and the queries, so both backends and both sides of a
match fold alike: NFD, combining marks dropped, đ/Đ → d, case folded; then split into runs of
letters and digits (punctuation, `_` and `.` of filenames separate words).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+")
_D = str.maketrans({"đ": "d", "Đ": "d"})


def fold_text(text: str) -> str:
    """ "Đường Phở" → "duong pho": no marks, no đ, case folded (spacing kept)."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare.casefold())


def keyword_tokens(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return _WORD.findall(fold_text(text))


def keyword_document(parts: Iterable[str | None]) -> str:
    """The folded words of every part, one space apart: what the full-text index holds."""
    return " ".join(t for part in parts if part for t in keyword_tokens(part))


def snippet(texts: Iterable[str | None], tokens: set[str], width: int = 8) -> str:
    """The first text holding a query word, cut to `width` words either side of it (original accents)."""
    for text in texts:
        if not text:
            continue
        words = text.split()
        for i, word in enumerate(words):
            if tokens & set(keyword_tokens(word)):
                lo, hi = max(0, i - width), min(len(words), i + width + 1)
                cut = " ".join(words[lo:hi])
                return ("… " if lo else "") + cut + (" …" if hi < len(words) else "")
    return ""


def highlights(text: str, tokens: set[str]) -> list[tuple[int, int]]:
    """[start, end) character spans of the words of `text` that fold to one of `tokens`."""
    spans: list[tuple[int, int]] = []
    for m in re.finditer(r"\S+", text):
        if tokens & set(keyword_tokens(m.group())):
            spans.append((m.start(), m.end()))
    return spans

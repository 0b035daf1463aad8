"""Hybrid ranking: a query's exclusions as people type them, and reciprocal rank fusion.

`parse_query` splits "ảnh bãi biển, không có người" into what to find ("ảnh bãi biển") and what
to leave out (["người"]): "không có X", "không X" after a comma, "trừ X", "ngoại trừ X" and
"-X", with or without accents ("khong co", "ngoai tru"). An exclusion runs to the next comma,
semicolon or the end of the query; `-X` takes one word, or a quoted phrase (`-"bãi biển"`).

`fuse` is reciprocal rank fusion (Cormack et al., 2009): each list adds `weight / (k + rank)`
for every item it ranks (ranks from 1), so an item both lists rank high beats one that only
one list ranks first. The defaults are chosen on the ViShapes-vi text set (`bench/hybrid.py`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_RRF_K = 60
DEFAULT_KEYWORD_WEIGHT = 1.0
MAX_EXCLUDE = 8
KEYWORD_DEPTH = 200  # keyword hits fused per query (BM25's tail adds nothing a page shows)
KEYWORD_FLOOR = 0.05  # of the best keyword score: below it a hit holds only uninformative words

# After a clause boundary (start, comma, semicolon) or a space: the negating words, then the phrase.
_NEGATION = re.compile(
    r"(?:^|(?<=[\s,;]))(?:không\s+có|khong\s+co|ngoại\s+trừ|ngoai\s+tru|trừ|không|khong)\s+([^,;]+)",
    re.IGNORECASE,
)
_MINUS = re.compile(r"(?:^|(?<=\s))-(?:\"([^\"]+)\"|([^\s\"-][^\s\"]*))")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ParsedQuery:
    positive: str  # what to find (may be empty when the query only excludes)
    exclude: tuple[str, ...]  # phrases to leave out, NFC, in the order typed, without repeats


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip(" ,;.")


def parse_query(query: str, extra_exclude: Sequence[str] = ()) -> ParsedQuery:
    """What `query` asks for and what it leaves out; `extra_exclude` (the API's `exclude`) is
    added after the phrases typed in the query. "không" only negates where it starts a clause
    ("ảnh mèo, không chó"), or as "không có" anywhere, so "cà phê không đường" stays a query."""
    text = unicodedata.normalize("NFC", query)
    found: list[str] = []

    def minus(m: re.Match[str]) -> str:
        found.append(m.group(1) or m.group(2))
        return " "

    text = _MINUS.sub(minus, text)

    def negation(m: re.Match[str]) -> str:
        head = m.group(0)[: m.start(1) - m.start(0)].strip().casefold()
        bare_khong = head in ("không", "khong")
        before = text[: m.start()].rstrip(" ")
        if bare_khong and before and not before.endswith((",", ";")):
            return m.group(0)  # "cà phê không đường": part of what is asked
        found.append(m.group(1))
        return " "

    text = _NEGATION.sub(negation, text)
    seen: set[str] = set()
    exclude: list[str] = []
    for phrase in (*found, *extra_exclude):
        cleaned = _clean(unicodedata.normalize("NFC", phrase))
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            exclude.append(cleaned)
    return ParsedQuery(_clean(text), tuple(exclude[:MAX_EXCLUDE]))


def fuse(
    ranked: Sequence[Sequence[str]], weights: Sequence[float], k: int = DEFAULT_RRF_K
) -> list[tuple[str, float]]:
    """Items of every list by their fused score, best first; ties keep the first list's order,
    then the next's. Each list is best first and holds each item once."""
    scores: dict[str, float] = {}
    for items, weight in zip(ranked, weights, strict=True):
        if weight <= 0:
            continue
        for rank, item in enumerate(items, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    # dict order is first-seen order: the first list's, then the next's; sorted() is stable
    return sorted(scores.items(), key=lambda kv: -kv[1])


def informative(scores: Sequence[float]) -> int:
    """How many of a best-first keyword ranking count as matches: those scoring at least
    `KEYWORD_FLOOR` of the best. A hit scoring a sliver of it holds only words that nearly every
    picture holds (BM25 gives them no weight), which in a fusion of ranks would count as a match."""
    if not scores:
        return 0
    floor = scores[0] * KEYWORD_FLOOR
    return sum(1 for s in scores if s >= floor)

"""Evaluation suites of short queries over a gallery of scenes, with every right answer known.

attribute: "ngôi sao màu vàng", "hình tròn đỏ lớn" (many relevant images each);
count: "hai ngôi sao màu vàng" against "một ngôi sao màu vàng" (exact counts);
position: "hình tam giác xanh lá ở bên trái".
Queries are drawn only where the gallery holds enough answers, from a seed of their own.
"""

from __future__ import annotations

import itertools

import numpy as np

from .queries import ObjectQuery, Query, query_text, relevance
from .scene import COLOURS, POSITIONS, SHAPES, SIZES, Scene

SUITES = ("attribute", "count", "position")


def _candidates(kind: str) -> list[Query]:
    colours = list(COLOURS)
    if kind == "attribute":
        pairs = [Query((ObjectQuery(s, c),)) for s, c in itertools.product(SHAPES, colours)]
        triples = [Query((ObjectQuery(s, c, z),)) for s, c, z in itertools.product(SHAPES, colours, SIZES)]
        return pairs + triples
    if kind == "count":
        return [
            Query((ObjectQuery(s, c, count=n),)) for s, c, n in itertools.product(SHAPES, colours, (1, 2, 3))
        ] + [Query((ObjectQuery(s, count=n),)) for s, n in itertools.product(SHAPES, (2, 3))]
    if kind == "position":
        return [
            Query((ObjectQuery(s, c, position=p),))
            for s, c, p in itertools.product(SHAPES, colours, POSITIONS)
        ]
    raise ValueError(f"unknown suite {kind!r}; known: {SUITES}")


MIN_RELEVANT = {"attribute": 10, "count": 1, "position": 1}


def build_suite(
    kind: str, scenes: list[Scene], seed: int = 7, limit: int = 400
) -> tuple[list[str], list[Query], np.ndarray]:
    """Texts, their queries and the [Q, N] relevance over `scenes`; at most `limit` queries."""
    candidates = _candidates(kind)
    rel = relevance(candidates, scenes).numpy()
    keep = np.flatnonzero(rel.sum(axis=1) >= MIN_RELEVANT[kind])
    rng = np.random.default_rng([seed, SUITES.index(kind)])
    if len(keep) > limit:
        keep = np.sort(rng.choice(keep, size=limit, replace=False))
    queries = [candidates[i] for i in keep]
    texts = [query_text(q, rng) for q in queries]
    return texts, queries, rel[keep]

"""Queries as people type them about a ViShapes-vi scene, and when a scene satisfies one.

A query is structured (`Query`): object descriptions with any subset of shape / colour / size /
position, an optional count, an optional background. Its text is one of many Vietnamese surface
forms; its truth is `satisfies`, also vectorised over a batch (`relevance`) so training can treat
every image a query is true of as a positive and evaluation can count every right answer.

Counts: "hai ngôi sao màu vàng" is true when exactly two objects are yellow stars; without a count
word ("ngôi sao màu vàng") at least one must be.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .captions import BACKGROUND_WORDS, COLOUR_WORDS, COUNT_WORDS, POSITION_WORDS, SHAPE_WORDS, SIZE_WORDS
from .scene import COLOURS, POSITIONS, SHAPES, SIZES, Scene

ATTRIBUTES = ("shape", "colour", "size", "position")
VALUES: dict[str, tuple[str, ...]] = {
    "shape": SHAPES,
    "colour": tuple(COLOURS),
    "size": SIZES,
    "position": tuple(POSITIONS),
}
CELLS = int(np.prod([len(v) for v in VALUES.values()]))  # one cell per (shape, colour, size, position)
PREFIXES = ("", "", "", "ảnh có", "tìm", "tìm ảnh có", "cho tôi xem", "hình ảnh", "ảnh", "có")
SUFFIXES = ("", "", "", "", " nhé", " đi")
# Words whose loss leaves a query true of the same scenes ("ngôi sao vàng" = "ngôi sao màu vàng").
DROPPABLE = frozenset({"màu", "ở", "có", "tìm", "cho", "tôi", "xem", "trên", "bên"})


@dataclass(frozen=True)
class ObjectQuery:
    """One described object; None leaves an attribute open. `count` 0: at least one, else exactly."""

    shape: str | None = None
    colour: str | None = None
    size: str | None = None
    position: str | None = None
    count: int = 0

    def matches(self, shape: str, colour: str, size: str, position: str) -> bool:
        got = {"shape": shape, "colour": colour, "size": size, "position": position}
        return all(getattr(self, a) in (None, got[a]) for a in ATTRIBUTES)


@dataclass(frozen=True)
class Query:
    objects: tuple[ObjectQuery, ...]
    background: str | None = None
    total: int | None = None  # the scene holds exactly this many objects (full descriptions)
    kind: str = "partial"


def satisfies(scene: Scene, query: Query) -> bool:
    if query.background not in (None, scene.background):
        return False
    if query.total is not None and len(scene.objects) != query.total:
        return False
    for q in query.objects:
        n = sum(q.matches(o.shape, o.colour, o.size, o.position) for o in scene.objects)
        if (q.count == 0 and n == 0) or (q.count > 0 and n != q.count):
            return False
    return True


def _cell(shape: str, colour: str, size: str, position: str) -> int:
    index = 0
    for attr, value in zip(ATTRIBUTES, (shape, colour, size, position), strict=True):
        index = index * len(VALUES[attr]) + VALUES[attr].index(value)
    return index


def scene_counts(scenes: list[Scene]) -> torch.Tensor:
    """[N, CELLS] object counts per (shape, colour, size, position) cell."""
    out = torch.zeros(len(scenes), CELLS)
    for i, s in enumerate(scenes):
        for o in s.objects:
            out[i, _cell(o.shape, o.colour, o.size, o.position)] += 1
    return out


def _mask(q: ObjectQuery) -> torch.Tensor:
    axes = [
        torch.tensor([getattr(q, a) in (None, v) for v in VALUES[a]], dtype=torch.float32) for a in ATTRIBUTES
    ]
    grid = axes[0]
    for axis in axes[1:]:
        grid = grid[:, None] * axis[None, :]
        grid = grid.reshape(-1)
    return grid


def relevance(queries: list[Query], scenes: list[Scene]) -> torch.Tensor:
    """[Q, N] bool, `satisfies` for every pair, in a few matrix products instead of Q*N calls."""
    counts = scene_counts(scenes)
    totals = torch.tensor([len(s.objects) for s in scenes])
    backgrounds = [s.background for s in scenes]
    owners, masks, wanted = [], [], []
    for qi, query in enumerate(queries):
        for q in query.objects:
            owners.append(qi)
            masks.append(_mask(q))
            wanted.append(q.count)
    out = torch.ones(len(queries), len(scenes), dtype=torch.bool)
    if masks:
        n = counts @ torch.stack(masks).T  # [N, M] objects matching each description
        want = torch.tensor(wanted)[None, :]
        ok = torch.where(want == 0, n > 0, n == want.float())  # [N, M]
        for m, qi in enumerate(owners):
            out[qi] &= ok[:, m]
    for qi, query in enumerate(queries):
        if query.background is not None:
            out[qi] &= torch.tensor([b == query.background for b in backgrounds])
        if query.total is not None:
            out[qi] &= totals == query.total
    return out


def full_query(scene: Scene) -> Query:
    """The query a complete description states: exactly this scene (up to jitter)."""
    groups: dict[tuple[str, str, str, str], int] = {}
    for o in scene.objects:
        key = (o.shape, o.colour, o.size, o.position)
        groups[key] = groups.get(key, 0) + 1
    objects = tuple(ObjectQuery(s, c, z, p, n) for (s, c, z, p), n in groups.items())
    return Query(objects, scene.background, len(scene.objects), kind="full")


def _pick(rng: np.random.Generator, words: tuple[str, ...]) -> str:
    return words[int(rng.integers(len(words)))]


def object_phrase(q: ObjectQuery, rng: np.random.Generator) -> str:
    """ "hai ngôi sao màu vàng nhỏ ở bên trái", or any part of it, in one of several word orders."""
    noun = _pick(rng, SHAPE_WORDS[q.shape]) if q.shape else _pick(rng, ("hình", "vật", "hình"))
    colour = _pick(rng, COLOUR_WORDS[q.colour]) if q.colour else ""
    if colour and (q.shape is None or rng.random() < 0.6):
        colour = "màu " + colour
    size = _pick(rng, SIZE_WORDS[q.size]) if q.size else ""
    parts = [noun, colour, size] if rng.random() < 0.6 else [noun, size, colour]
    if q.count:
        parts.insert(0, COUNT_WORDS[q.count])
    if q.position:
        parts.append(POSITION_WORDS[q.position])
    return " ".join(p for p in parts if p)


def query_text(query: Query, rng: np.random.Generator, dropout: float = 0.0) -> str:
    phrases = [object_phrase(q, rng) for q in query.objects]
    body = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " và " + phrases[-1]
    if query.background is not None:
        bg = f"trên nền {BACKGROUND_WORDS[query.background]}"
        body = f"{body} {bg}" if rng.random() < 0.7 else f"{bg} có {body}"
    prefix = _pick(rng, PREFIXES)
    text = f"{prefix} {body}{_pick(rng, SUFFIXES)}".strip()
    if dropout > 0:
        words = [w for w in text.split() if w not in DROPPABLE or rng.random() >= dropout]
        text = " ".join(words) or text
    return text


@dataclass(frozen=True)
class QuerySampling:
    """How partial queries are drawn from a scene (the training recipe's knobs)."""

    max_objects: int = 2  # objects described in one query (at most the scene's groups)
    attribute_prob: dict[str, float] = field(
        # Shape is named most often and colour less: a colour alone is easy to see, so queries
        # that name a shape without its colour are what teaches the image tower shapes.
        default_factory=lambda: {"shape": 0.95, "colour": 0.6, "size": 0.3, "position": 0.3}
    )
    count_prob: float = 0.5  # state the exact count
    background_prob: float = 0.15
    dropout: float = 0.15  # drop filler words ("màu", "ở", "có", ...)


def sample_query(scene: Scene, rng: np.random.Generator, cfg: QuerySampling | None = None) -> Query:
    """A partial query true of `scene`: a few of its objects, each with some of its attributes."""
    cfg = cfg or QuerySampling()
    objs = [scene.objects[i] for i in rng.permutation(len(scene.objects))]
    n = 1 + int(rng.integers(min(cfg.max_objects, len(objs))))
    described: list[ObjectQuery] = []
    for o in objs[:n]:
        chosen = {a: getattr(o, a) for a in ATTRIBUTES if rng.random() < cfg.attribute_prob[a]}
        if not chosen:
            a = ("shape", "colour")[int(rng.integers(2))]
            chosen = {a: getattr(o, a)}
        q = ObjectQuery(**chosen)
        if rng.random() < cfg.count_prob:
            held = sum(q.matches(x.shape, x.colour, x.size, x.position) for x in scene.objects)
            if held in COUNT_WORDS:
                q = ObjectQuery(**chosen, count=held)
        if q not in described:
            described.append(q)
    background = scene.background if rng.random() < cfg.background_prob else None
    return Query(tuple(described), background)


def foil_query(
    query: Query, scene: Scene, rng: np.random.Generator, tries: int = 8, rebind: float = 0.0
) -> Query | None:
    """A near miss: `query` with one stated attribute or count of one object changed, so it is false
    of `scene` ("hai ngôi sao vàng" for a picture of one; "hình tròn đỏ" for a red square). Shape and
    count are changed most often, the distinctions a colour shortcut does not teach. None when no
    change within `tries` makes the query false (every candidate is also in the scene).

    With chance `rebind` the new value is one the scene itself shows on another object, and a new
    count is one off the true one: "ngôi sao màu vàng" for a red star beside a yellow circle, "hai"
    for three. Such foils use only words true of the picture, so only binding tells them apart."""
    if not query.objects:
        return None
    for _ in range(tries):
        at = int(rng.integers(len(query.objects)))
        q = query.objects[at]
        stated = [a for a in ATTRIBUTES if getattr(q, a) is not None]
        kinds = [*stated, *(["shape"] * ("shape" in stated)), "count"]
        kind = kinds[int(rng.integers(len(kinds)))]
        if kind == "count":
            held = sum(q.matches(o.shape, o.colour, o.size, o.position) for o in scene.objects)
            counts = [n for n in COUNT_WORDS if n != held]
            if rng.random() < rebind:
                counts = [n for n in counts if abs(n - held) == 1] or counts
            changed = replace(q, count=counts[int(rng.integers(len(counts)))])
        else:
            values = [v for v in VALUES[kind] if v != getattr(q, kind)]
            if rng.random() < rebind:
                shown = {getattr(o, kind) for o in scene.objects}
                values = [v for v in values if v in shown] or values
            value = values[int(rng.integers(len(values)))]
            changed = ObjectQuery(
                shape=value if kind == "shape" else q.shape,
                colour=value if kind == "colour" else q.colour,
                size=value if kind == "size" else q.size,
                position=value if kind == "position" else q.position,
                count=q.count,
            )
        objects = (*query.objects[:at], changed, *query.objects[at + 1 :])
        foil = Query(objects, query.background, query.total, kind="foil")
        if not satisfies(scene, foil):
            return foil
    return None

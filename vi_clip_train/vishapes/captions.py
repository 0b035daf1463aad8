"""Vietnamese captions of a scene: several templates, synonyms, and counts for repeated objects."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .scene import POSITIONS, Scene, SceneObject

SHAPE_WORDS = {
    "circle": ("hình tròn", "vòng tròn"),
    "square": ("hình vuông",),
    "triangle": ("hình tam giác",),
    "star": ("ngôi sao",),
    "heart": ("trái tim",),
    "hexagon": ("hình lục giác",),
    "diamond": ("hình thoi",),
    "cross": ("hình chữ thập",),
}
COLOUR_WORDS = {
    "red": ("đỏ",),
    "orange": ("cam",),
    "yellow": ("vàng",),
    "green": ("xanh lá",),
    "blue": ("xanh dương", "xanh lam"),
    "purple": ("tím",),
    "pink": ("hồng",),
    "brown": ("nâu",),
    "black": ("đen",),
}
SIZE_WORDS = {"small": ("nhỏ",), "large": ("lớn", "to")}
POSITION_WORDS = {
    "top-left": "ở góc trên bên trái",
    "top": "ở phía trên",
    "top-right": "ở góc trên bên phải",
    "left": "ở bên trái",
    "center": "ở giữa",
    "right": "ở bên phải",
    "bottom-left": "ở góc dưới bên trái",
    "bottom": "ở phía dưới",
    "bottom-right": "ở góc dưới bên phải",
}
BACKGROUND_WORDS = {"white": "trắng", "grey": "xám"}
COUNT_WORDS = {1: "một", 2: "hai", 3: "ba"}

Group = tuple[SceneObject, list[str]]  # one (shape, colour, size) and the positions holding it


def _pick(rng: np.random.Generator, words: tuple[str, ...]) -> str:
    return words[int(rng.integers(len(words)))]


def _describe(obj: SceneObject, count: int, order: str, rng: np.random.Generator) -> str:
    """Noun phrase in one of three attribute orders: "màu" first (A), bare colour (B), size first (C)."""
    shape = _pick(rng, SHAPE_WORDS[obj.shape])
    colour = _pick(rng, COLOUR_WORDS[obj.colour])
    size = _pick(rng, SIZE_WORDS[obj.size])
    body = {
        "A": f"{shape} màu {colour} {size}",
        "B": f"{shape} {colour} {size}",
        "C": f"{shape} {size} màu {colour}",
    }[order]
    return f"{COUNT_WORDS[count]} {body}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " và " + parts[-1]


def _groups(scene: Scene, rng: np.random.Generator) -> list[Group]:
    """Identical objects merge into one counted group; group order is random, as people's is."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for o in scene.objects:
        groups.setdefault((o.shape, o.colour, o.size), []).append(o.position)
    items = [(SceneObject(s, c, z, ps[0]), ps) for (s, c, z), ps in groups.items()]
    return [items[i] for i in rng.permutation(len(items))]


def _object_first(scene: Scene, order: str, rng: np.random.Generator) -> str:
    """ "hai ngôi sao màu vàng nhỏ ở bên trái và ở giữa, ..." (counts live here)."""
    phrases = []
    for obj, positions in _groups(scene, rng):
        where = " và ".join(POSITION_WORDS[p] for p in sorted(positions, key=POSITIONS.__getitem__))
        phrases.append(f"{_describe(obj, len(positions), order, rng)} {where}")
    return _join(phrases)


def _position_first(scene: Scene, order: str, rng: np.random.Generator) -> str:
    """ "ở góc trên bên trái có một hình tròn màu đỏ lớn, ..." one clause per object."""
    objs = [scene.objects[i] for i in rng.permutation(len(scene.objects))]
    return _join([f"{POSITION_WORDS[o.position]} có {_describe(o, 1, order, rng)}" for o in objs])


def _bg(scene: Scene) -> str:
    return BACKGROUND_WORDS[scene.background]


Template = Callable[[Scene, np.random.Generator], str]
TRAIN_TEMPLATES: dict[str, Template] = {
    "t0": lambda s, r: f"{_object_first(s, 'A', r)} trên nền {_bg(s)}",
    "t1": lambda s, r: f"ảnh có {_object_first(s, 'B', r)} trên nền {_bg(s)}",
    "t2": lambda s, r: f"trên nền {_bg(s)} có {_object_first(s, 'C', r)}",
    "t3": lambda s, r: f"nền {_bg(s)}, {_position_first(s, 'A', r)}",
}
# Never seen in training: a new combination (prefix + position-first clauses + size-first phrases)
# of known words, so the evaluation measures compositional generalisation, not template recall.
HELD_OUT_TEMPLATE = "t4"
ALL_TEMPLATES: dict[str, Template] = {
    **TRAIN_TEMPLATES,
    HELD_OUT_TEMPLATE: lambda s, r: f"trên nền {_bg(s)}, {_position_first(s, 'C', r)}",
}


def caption(scene: Scene, template: str, rng: np.random.Generator) -> str:
    return ALL_TEMPLATES[template](scene, rng)

"""The structured world: shapes, colours, sizes, grid positions, backgrounds, and how scenes are drawn."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

SHAPES = ("circle", "square", "triangle", "star", "heart", "hexagon", "diamond", "cross")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (255, 140, 0),
    "yellow": (240, 210, 0),
    "green": (30, 160, 50),
    "blue": (30, 80, 220),
    "purple": (135, 50, 185),
    "pink": (255, 120, 200),
    "brown": (125, 75, 30),
    "black": (20, 20, 20),
}
SIZES = ("small", "large")
# (row, col) on a 3x3 grid; captions name each cell.
POSITIONS: dict[str, tuple[int, int]] = {
    "top-left": (0, 0),
    "top": (0, 1),
    "top-right": (0, 2),
    "left": (1, 0),
    "center": (1, 1),
    "right": (1, 2),
    "bottom-left": (2, 0),
    "bottom": (2, 1),
    "bottom-right": (2, 2),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {"white": (250, 250, 250), "grey": (185, 185, 185)}
# Chance that an object copies an earlier one's shape, colour and size, so captions with counts
# ("hai ngôi sao màu vàng") are common enough to learn.
REPEAT_PROB = 0.2


@dataclass(frozen=True)
class SceneObject:
    shape: str
    colour: str
    size: str
    position: str


@dataclass(frozen=True)
class Scene:
    background: str
    objects: tuple[SceneObject, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"background": self.background, "objects": [asdict(o) for o in self.objects]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scene:
        return cls(data["background"], tuple(SceneObject(**o) for o in data["objects"]))


def scene_key(scene: Scene) -> str:
    """Canonical string: two scenes with the same key are the same picture up to jitter."""
    objects = sorted((o.position, o.shape, o.colour, o.size) for o in scene.objects)
    return json.dumps([scene.background, objects])


def sample_scene(rng: np.random.Generator, min_objects: int = 1, max_objects: int = 3) -> Scene:
    n = int(rng.integers(min_objects, max_objects + 1))
    cells = rng.choice(len(POSITIONS), size=n, replace=False)
    names = list(POSITIONS)
    objects: list[SceneObject] = []
    for cell in cells:
        if objects and rng.random() < REPEAT_PROB:
            src = objects[int(rng.integers(len(objects)))]
            shape, colour, size = src.shape, src.colour, src.size
        else:
            shape = SHAPES[int(rng.integers(len(SHAPES)))]
            colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
            size = SIZES[int(rng.integers(len(SIZES)))]
        objects.append(SceneObject(shape, colour, size, names[int(cell)]))
    background = list(BACKGROUNDS)[int(rng.integers(len(BACKGROUNDS)))]
    return Scene(background, tuple(objects))

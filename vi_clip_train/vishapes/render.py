"""Drawing a scene: supersampled polygons, downscaled with antialiasing, so small shapes stay legible."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .scene import BACKGROUNDS, COLOURS, POSITIONS, Scene

SUPERSAMPLE = 4
RADIUS = {"small": 0.27, "large": 0.44}  # fraction of a grid cell
JITTER = 0.08  # centre jitter, fraction of a grid cell
COLOUR_JITTER = 12


def _star(r: float) -> list[tuple[float, float]]:
    return [
        (
            (r if i % 2 == 0 else 0.45 * r) * math.sin(i * math.pi / 5),
            -(r if i % 2 == 0 else 0.45 * r) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]


def _regular(n: int, r: float, phase: float) -> list[tuple[float, float]]:
    return [
        (r * math.cos(phase + 2 * math.pi * i / n), r * math.sin(phase + 2 * math.pi * i / n))
        for i in range(n)
    ]


def _heart(r: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(48):
        t = 2 * math.pi * i / 48
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((x * r / 16, -(y + 2) * r / 16))
    return pts


def _cross(r: float) -> list[tuple[float, float]]:
    a = 0.34 * r
    return [
        (-a, -r),
        (a, -r),
        (a, -a),
        (r, -a),
        (r, a),
        (a, a),
        (a, r),
        (-a, r),
        (-a, a),
        (-r, a),
        (-r, -a),
        (-a, -a),
    ]


def shape_outline(shape: str, r: float) -> list[tuple[float, float]] | None:
    """Polygon around the origin for `shape`; None for the circle (drawn as an ellipse)."""
    if shape == "circle":
        return None
    table = {
        "square": lambda: _regular(4, r * 0.92 * math.sqrt(2) * 0.85, math.pi / 4),
        "triangle": lambda: [(x, y + 0.15 * r) for x, y in _regular(3, r * 1.1, -math.pi / 2)],
        "star": lambda: _star(r * 1.1),
        "heart": lambda: _heart(r),
        "hexagon": lambda: _regular(6, r, 0.0),
        "diamond": lambda: [(0.0, -r * 1.05), (0.62 * r, 0.0), (0.0, r * 1.05), (-0.62 * r, 0.0)],
        "cross": lambda: _cross(r),
    }
    return table[shape]()


def render(scene: Scene, size: int, rng: np.random.Generator) -> Image.Image:
    big = size * SUPERSAMPLE
    cell = big / 3
    shift = int(rng.integers(-6, 7))  # one shift for all channels: lighter or darker, never tinted
    bg = tuple(c + shift for c in BACKGROUNDS[scene.background])
    img = Image.new("RGB", (big, big), bg)
    draw = ImageDraw.Draw(img)
    for obj in scene.objects:
        row, col = POSITIONS[obj.position]
        cx = (col + 0.5 + rng.uniform(-JITTER, JITTER)) * cell
        cy = (row + 0.5 + rng.uniform(-JITTER, JITTER)) * cell
        r = RADIUS[obj.size] * cell * rng.uniform(0.93, 1.07)
        fill = tuple(
            int(np.clip(c + rng.integers(-COLOUR_JITTER, COLOUR_JITTER + 1), 0, 255))
            for c in COLOURS[obj.colour]
        )
        outline = shape_outline(obj.shape, r)
        if outline is None:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        else:
            draw.polygon([(cx + x, cy + y) for x, y in outline], fill=fill)
    return img.resize((size, size), Image.Resampling.LANCZOS)

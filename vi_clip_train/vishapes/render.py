"""Drawing a scene: supersampled polygons, downscaled with antialiasing, so small shapes stay legible.

Each object gets its own small rotation, aspect and proportions, and the background its own light
texture (gradient or grain), so the model learns shapes and colours rather than one exact drawing.
`shifted.py` draws the same scenes another way, for evaluation only.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from .scene import BACKGROUNDS, COLOURS, POSITIONS, Scene

SUPERSAMPLE = 4
RADIUS = {"small": 0.27, "large": 0.44}  # fraction of a grid cell
JITTER = 0.08  # centre jitter, fraction of a grid cell
COLOUR_JITTER = 12
ROTATION = math.radians(15)


def _star(r: float, inner: float = 0.45) -> list[tuple[float, float]]:
    return [
        (
            (r if i % 2 == 0 else inner * r) * math.sin(i * math.pi / 5),
            -(r if i % 2 == 0 else inner * r) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]


def regular_polygon(n: int, r: float, phase: float) -> list[tuple[float, float]]:
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


def cross_outline(r: float, arm: float = 0.34) -> list[tuple[float, float]]:
    """A plus sign whose arms are `arm` of its radius wide on each side."""
    a = arm * r
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
        "square": lambda: regular_polygon(4, r * 0.92 * math.sqrt(2) * 0.85, math.pi / 4),
        "triangle": lambda: [(x, y + 0.15 * r) for x, y in regular_polygon(3, r * 1.1, -math.pi / 2)],
        "star": lambda: _star(r * 1.1),
        "heart": lambda: _heart(r),
        "hexagon": lambda: regular_polygon(6, r, 0.0),
        "diamond": lambda: [(0.0, -r * 1.05), (0.62 * r, 0.0), (0.0, r * 1.05), (-0.62 * r, 0.0)],
        "cross": lambda: cross_outline(r),
    }
    return table[shape]()


def _varied(outline: list[tuple[float, float]], rng: np.random.Generator) -> list[tuple[float, float]]:
    """A small rotation and stretch: the same shape name, never the same drawing."""
    angle = rng.uniform(-ROTATION, ROTATION)
    sx, sy = rng.uniform(0.9, 1.1, size=2)
    cos, sin = math.cos(angle), math.sin(angle)
    return [(sx * x * cos - sy * y * sin, sx * x * sin + sy * y * cos) for x, y in outline]


def background(name: str, big: int, rng: np.random.Generator) -> Image.Image:
    """The named background, lighter or darker, sometimes with a faint gradient or grain."""
    shift = int(rng.integers(-6, 7))  # one shift for all channels: lighter or darker, never tinted
    base = np.full((big, big, 3), BACKGROUNDS[name], dtype=np.float32) + shift
    style = rng.random()
    if style < 0.3:
        ramp = np.linspace(-1.0, 1.0, big, dtype=np.float32) * rng.uniform(4, 12)
        base += (ramp[:, None] if rng.random() < 0.5 else ramp[None, :])[..., None]
    elif style < 0.5:
        base += rng.normal(0.0, rng.uniform(2, 6), size=(big // 8, big // 8, 1)).repeat(8, 0).repeat(8, 1)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def render(scene: Scene, size: int, rng: np.random.Generator) -> Image.Image:
    big = size * SUPERSAMPLE
    cell = big / 3
    img = background(scene.background, big, rng)
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
            rx, ry = r * rng.uniform(0.93, 1.07, size=2)
            draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=fill)
            continue
        if obj.shape == "star":
            outline = _star(r * 1.1, float(rng.uniform(0.38, 0.52)))
        draw.polygon([(cx + x, cy + y) for x, y in _varied(outline, rng)], fill=fill)
    return img.resize((size, size), Image.Resampling.LANCZOS)

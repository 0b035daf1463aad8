"""A second way to draw ViShapes-vi scenes, used only for evaluation: pictures the model never saw.

Its own geometry (rounded squares, pointy-top hexagons, a heart of two discs and a wedge, thinner
crosses, fatter stars, slim diamonds), other sizes and jitter, dark outlines, textured or
gradient backgrounds, another resampling filter, and JPEG compression. The scene and so every
caption stay the same; only the drawing changes.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .render import cross_outline, regular_polygon
from .scene import BACKGROUNDS, COLOURS, POSITIONS, Scene

SUPERSAMPLE = 3
RADIUS = {"small": (0.24, 0.31), "large": (0.39, 0.47)}  # fraction of a grid cell
JITTER = 0.12
COLOUR_JITTER = 16


def _star(r: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(10):
        rr = r if i % 2 == 0 else 0.55 * r
        a = i * math.pi / 5 - math.pi / 2
        pts.append((rr * math.cos(a), rr * math.sin(a)))
    return pts


def _draw(
    draw: ImageDraw.ImageDraw,
    shape: str,
    cx: float,
    cy: float,
    r: float,
    fill: tuple[int, ...],
    edge: tuple[int, ...] | None,
    width: int,
) -> None:
    box = (cx - r, cy - r, cx + r, cy + r)
    if shape == "circle":
        draw.ellipse(box, fill=fill, outline=edge, width=width)
        return
    if shape == "square":
        s = r * 0.8
        draw.rounded_rectangle(
            (cx - s, cy - s, cx + s, cy + s), radius=s * 0.3, fill=fill, outline=edge, width=width
        )
        return
    if shape == "heart":
        d = r * 0.52
        draw.ellipse((cx - 2 * d + 0.05 * r, cy - 0.75 * r, cx + 0.05 * r, cy - 0.75 * r + 2 * d), fill=fill)
        draw.ellipse((cx - 0.05 * r, cy - 0.75 * r, cx + 2 * d - 0.05 * r, cy - 0.75 * r + 2 * d), fill=fill)
        draw.polygon(
            [(cx - 0.98 * r, cy - 0.15 * r), (cx + 0.98 * r, cy - 0.15 * r), (cx, cy + 0.95 * r)], fill=fill
        )
        return
    outline = {
        "triangle": [(0.0, -r), (0.95 * r, 0.8 * r), (-0.95 * r, 0.8 * r)],
        "star": _star(r * 1.05),
        "hexagon": regular_polygon(6, r * 0.95, -math.pi / 2),
        "diamond": [(0.0, -r), (0.5 * r, 0.0), (0.0, r), (-0.5 * r, 0.0)],
        "cross": cross_outline(r, arm=0.24),
    }[shape]
    draw.polygon([(cx + x, cy + y) for x, y in outline], fill=fill, outline=edge, width=width)


def _background(name: str, big: int, rng: np.random.Generator) -> Image.Image:
    base = np.full((big, big, 3), BACKGROUNDS[name], dtype=np.float32) + rng.uniform(-10, 10)
    yy, xx = np.mgrid[0:big, 0:big].astype(np.float32) / big
    angle = rng.uniform(0, 2 * math.pi)
    base += (np.cos(angle) * xx + np.sin(angle) * yy - 0.5)[..., None] * rng.uniform(6, 18)
    base += rng.normal(0.0, rng.uniform(2, 7), size=(big, big, 1))
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def render_shifted(scene: Scene, size: int, rng: np.random.Generator) -> Image.Image:
    big = size * SUPERSAMPLE
    cell = big / 3
    img = _background(scene.background, big, rng)
    draw = ImageDraw.Draw(img)
    outlined = rng.random() < 0.5
    for obj in scene.objects:
        row, col = POSITIONS[obj.position]
        cx = (col + 0.5 + rng.uniform(-JITTER, JITTER)) * cell
        cy = (row + 0.5 + rng.uniform(-JITTER, JITTER)) * cell
        r = rng.uniform(*RADIUS[obj.size]) * cell
        fill = tuple(
            int(np.clip(c + rng.integers(-COLOUR_JITTER, COLOUR_JITTER + 1), 0, 255))
            for c in COLOURS[obj.colour]
        )
        edge = tuple(int(c * 0.55) for c in fill) if outlined else None
        _draw(draw, obj.shape, cx, cy, r, fill, edge, max(1, int(cell * 0.03)))
    small = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.2))).resize(
        (size, size), Image.Resampling.BILINEAR
    )
    buf = io.BytesIO()
    small.save(buf, format="JPEG", quality=int(rng.integers(45, 86)))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")

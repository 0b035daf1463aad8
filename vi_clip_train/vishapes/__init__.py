"""ViShapes-vi: a procedural Vietnamese image-caption world, deterministic by seed.

Scenes of 1-3 coloured shapes on a 3x3 grid, captioned by several templates with synonyms; the test
and validation splits are captioned by a template never used in training.
"""

from .captions import HELD_OUT_TEMPLATE, TRAIN_TEMPLATES, caption
from .scene import Scene, SceneObject, sample_scene, scene_key

__all__ = [
    "HELD_OUT_TEMPLATE",
    "TRAIN_TEMPLATES",
    "Scene",
    "SceneObject",
    "caption",
    "sample_scene",
    "scene_key",
]

"""Look-alike batches: full, without repeats, and holding the near misses of their anchors."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from vi_clip_train.batches import NeighbourBatches
from vi_clip_train.data import ImageRecord
from vi_clip_train.vishapes.scene import Scene, SceneObject


def record(i: int, *objects: tuple[str, str]) -> ImageRecord:
    scene = Scene("white", tuple(SceneObject(s, c, "small", "center") for s, c in objects))
    return ImageRecord(Path(f"{i}.png"), [f"ảnh {i}"], key=str(i), scene=scene)


def library(n: int = 400, seed: int = 3) -> list[ImageRecord]:
    rng = random.Random(seed)
    shapes, colours = ["star", "circle", "square", "heart"], ["yellow", "red", "blue", "green"]
    return [
        record(i, *((rng.choice(shapes), rng.choice(colours)) for _ in range(rng.randint(1, 3))))
        for i in range(n)
    ]


def swapped(r: ImageRecord, shape: str, colour: str) -> bool:
    """Holds the shape and the colour, never on one object: a near miss of "<shape> <colour>"."""
    assert r.scene is not None
    objects = r.scene.objects
    return (
        any(o.shape == shape for o in objects)
        and any(o.colour == colour for o in objects)
        and not any((o.shape, o.colour) == (shape, colour) for o in objects)
    )


def test_batches_are_full_and_never_repeat_an_image() -> None:
    recs = library()
    perm = list(range(len(recs)))
    random.Random(0).shuffle(perm)
    batches = list(NeighbourBatches(recs, 64, 0.5, 8, seed=1).epoch(perm, 10))
    assert len(batches) == 10
    for batch in batches:
        assert len(batch) == 64 and len(set(batch)) == 64
    # Half of each batch follows the permutation, in order.
    assert [b[:32] for b in batches[:2]] == [perm[:32], perm[32:64]]


def test_look_alikes_are_near_misses_and_holders_of_an_anchor_object() -> None:
    recs = library()
    batches = NeighbourBatches(recs, 64, 0.5, 8, seed=2)
    near, held = batches.near_misses, batches.holders
    key = ("object", "star", "yellow")
    assert near[key] and all(swapped(recs[i], "star", "yellow") for i in near[key])
    assert all(not swapped(recs[i], "star", "yellow") for i in held[key])
    perm = list(range(len(recs)))
    plain_share, drawn_share = [], []
    for batch in itertools.islice(batches.epoch(perm, 40), 40):
        base, added = batch[:32], batch[32:]
        for part, out in ((base, plain_share), (added, drawn_share)):
            pairs = {k for i in part for k in batches.keys[i]}
            # how many images of this part are a near miss of some object of another image of it
            out.append(sum(any(i in near[k] for k in pairs) for i in part) / len(part))
    assert sum(drawn_share) / 40 > sum(plain_share) / 40 + 0.1


def test_records_without_scenes_or_tags_are_drawn_as_usual() -> None:
    recs = [ImageRecord(Path(f"{i}.jpg"), ["một con mèo"], key=str(i)) for i in range(100)]
    perm = list(range(100))
    assert list(NeighbourBatches(recs, 20, 0.5).epoch(perm, 3)) == [perm[:20], perm[20:40], perm[40:60]]
    with pytest.raises(ValueError, match="share"):
        NeighbourBatches(recs, 20, 1.0)

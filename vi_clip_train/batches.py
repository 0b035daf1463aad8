"""Training batches that hold look-alikes, so in-batch negatives teach what a short query binds.

With batches drawn at random, a short query ("ngôi sao màu vàng") meets few images that hold a
star and something yellow but no yellow star, and those are exactly the images the model ranks
too high (vi-tiny on the ViShapes-vi test split: 309 of 452 wrong top-10 images of attribute
queries). `NeighbourBatches` draws part of every batch as look-alikes of a few anchor images: on
ViShapes-vi, for one object of the anchor (a yellow star), pictures that hold its shape and its
colour on other objects (a red star beside a yellow circle) and pictures that hold the object
too, half and half; on real data, records that share one of the anchor's tags. The batch then
holds both the images a partial caption is true of (positives, which the caption sampler finds)
and the near misses it is false of. Records with neither scene nor tags are drawn as usual.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator, Sequence

from .data import ImageRecord


class NeighbourBatches:
    """Index lists for one epoch: `share` of each batch drawn as look-alikes of anchors, `group`
    per anchor, the rest taken in order from the epoch's permutation."""

    def __init__(
        self, records: Sequence[ImageRecord], batch_size: int, share: float, group: int = 8, seed: int = 0
    ) -> None:
        if not 0.0 <= share < 1.0:
            raise ValueError(f"neighbour share {share} must be in [0, 1)")
        self.batch_size, self.share, self.group = batch_size, share, max(2, group)
        self.rng = random.Random(seed)
        self.size = len(records)
        # Per anchor, the pools its look-alikes come from (indexes into `pools`).
        self.keys: list[list[tuple[str, ...]]] = []
        holders: dict[tuple[str, ...], set[int]] = defaultdict(set)
        halves: dict[str, set[int]] = defaultdict(set)
        for i, r in enumerate(records):
            if r.scene is not None:
                objects = {(o.shape, o.colour) for o in r.scene.objects}
                for shape, colour in objects:
                    holders[("object", shape, colour)].add(i)
                for o in r.scene.objects:
                    halves["shape:" + o.shape].add(i)
                    halves["colour:" + o.colour].add(i)
                self.keys.append([("object", s, c) for s, c in sorted(objects)])
            else:
                for tag in r.tags:
                    holders[("tag", tag)].add(i)
                self.keys.append([("tag", t) for t in r.tags])
        self.holders = {k: sorted(v) for k, v in holders.items()}
        self.near_misses = {
            k: sorted((halves["shape:" + k[1]] & halves["colour:" + k[2]]) - v)
            for k, v in holders.items()
            if k[0] == "object"
        }

    def epoch(self, perm: Sequence[int], steps: int) -> Iterator[list[int]]:
        neighbours = int(self.batch_size * self.share) if self.holders else 0
        plain = self.batch_size - neighbours
        for step in range(steps):
            start = (step * plain) % len(perm)
            base = list(perm[start : start + plain])
            if len(base) < plain:  # wrapped around the permutation
                base += list(perm[: plain - len(base)])
            yield self._fill(base, neighbours)

    def _fill(self, batch: list[int], wanted: int) -> list[int]:
        taken = set(batch)
        anchors = [i for i in batch if self.keys[i]]
        self.rng.shuffle(anchors)
        added = 0
        for anchor in anchors:
            if added >= wanted:
                break
            key = self.rng.choice(self.keys[anchor])
            pools = [self.near_misses.get(key, []), self.holders[key]]
            for pool, share in zip(pools, (self.group // 2, self.group - self.group // 2), strict=True):
                drawn = self.rng.sample(pool, min(len(pool), 4 * share))
                fresh = [i for i in drawn if i not in taken][: min(share, wanted - added)]
                batch += fresh
                taken.update(fresh)
                added += len(fresh)
        while added < wanted and len(taken) < self.size:  # too few look-alikes: any other image
            i = self.rng.randrange(self.size)
            if i not in taken:
                taken.add(i)
                batch.append(i)
                added += 1
        return batch

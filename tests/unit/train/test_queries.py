"""Queries as people type them: every sampled query is true of its scene, counts are exact, and the
batched relevance agrees with the one-pair truth."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.support.scenes import TWO_YELLOW_STARS
from vi_clip.text import strip_diacritics
from vi_clip_train.captions import CaptionSampler, CaptionSampling, crop_caption, foil_caption
from vi_clip_train.data import ImageRecord
from vi_clip_train.vishapes import sample_scene, scene_key
from vi_clip_train.vishapes.captions import COLOUR_WORDS, COUNT_WORDS, SHAPE_WORDS
from vi_clip_train.vishapes.queries import (
    ObjectQuery,
    Query,
    foil_query,
    full_query,
    query_text,
    relevance,
    sample_query,
    satisfies,
)
from vi_clip_train.vishapes.scene import Scene
from vi_clip_train.vishapes.suites import SUITES, build_suite


def test_counts_are_exact_and_bare_nouns_mean_at_least_one() -> None:
    star = ObjectQuery("star", "yellow")
    assert satisfies(TWO_YELLOW_STARS, Query((star,)))
    assert satisfies(TWO_YELLOW_STARS, Query((ObjectQuery("star", "yellow", count=2),)))
    assert not satisfies(TWO_YELLOW_STARS, Query((ObjectQuery("star", "yellow", count=1),)))
    assert satisfies(TWO_YELLOW_STARS, Query((ObjectQuery("star", "yellow", "small", count=1),)))
    assert not satisfies(TWO_YELLOW_STARS, Query((ObjectQuery("star", "red"),)))
    assert satisfies(TWO_YELLOW_STARS, Query((ObjectQuery(colour="red", position="top"),), "white"))
    assert not satisfies(TWO_YELLOW_STARS, Query((star,), "grey"))


def test_sampled_queries_are_true_of_their_scene_and_say_their_counts() -> None:
    rng = np.random.default_rng(0)
    counted = 0
    for _ in range(600):
        scene = sample_scene(rng)
        query = sample_query(scene, rng)
        assert satisfies(scene, query), (scene, query)
        text = query_text(query, rng, dropout=0.3)
        for q in query.objects:
            if q.count:
                counted += 1
                held = sum(q.matches(o.shape, o.colour, o.size, o.position) for o in scene.objects)
                assert held == q.count
                assert COUNT_WORDS[q.count] in text.split()
            if q.shape:
                assert any(w in text for w in SHAPE_WORDS[q.shape]), text
            if q.colour:
                assert any(w in text for w in COLOUR_WORDS[q.colour]), text
    assert counted > 150  # counts are a large part of what is learned


def test_batched_relevance_equals_pairwise_truth() -> None:
    rng = np.random.default_rng(1)
    scenes = [sample_scene(rng) for _ in range(60)]
    queries = [sample_query(s, rng) for s in scenes] + [full_query(s) for s in scenes]
    rel = relevance(queries, scenes)
    expected = torch.tensor([[satisfies(s, q) for s in scenes] for q in queries])
    assert torch.equal(rel, expected)
    assert bool(rel.diagonal().all())


def test_a_full_description_is_true_exactly_of_the_same_scene() -> None:
    rng = np.random.default_rng(2)
    scenes = [sample_scene(rng) for _ in range(300)]
    rel = relevance([full_query(s) for s in scenes], scenes)
    keys = [scene_key(s) for s in scenes]
    assert torch.equal(rel, torch.tensor([[a == b for b in keys] for a in keys]))


def _records(scenes: list[Scene]) -> list[ImageRecord]:
    return [
        ImageRecord(path=Path(f"{i}.png"), captions=[f"cap {i}"], key=scene_key(s), scene=s)
        for i, s in enumerate(scenes)
    ]


def test_sampler_positives_cover_every_image_a_text_is_true_of() -> None:
    rng = np.random.default_rng(3)
    scenes = [sample_scene(rng) for _ in range(64)]
    sampler = CaptionSampler(CaptionSampling(full_prob=0.3, strip_diacritics_prob=0.3), seed=0)
    texts, positives = sampler.sample(_records(scenes), list(range(64)))
    assert len(texts) == 64 and positives.shape == (64, 64)
    assert bool(positives.diagonal().all())
    assert int(positives.sum()) > 64  # partial queries are true of other images of the batch
    assert any(t == strip_diacritics(t) and t != t.lower().upper() for t in texts)


def test_foils_are_near_misses_false_of_their_scene() -> None:
    rng = np.random.default_rng(5)
    changed: dict[str, int] = {"shape": 0, "colour": 0, "count": 0}
    for _ in range(400):
        scene = sample_scene(rng)
        query = sample_query(scene, rng) if rng.random() < 0.7 else full_query(scene)
        foil = foil_query(query, scene, rng)
        if foil is None:
            continue
        assert satisfies(scene, query) and not satisfies(scene, foil), (scene, query, foil)
        diffs = [(a, b) for a, b in zip(query.objects, foil.objects, strict=True) if a != b]
        assert len(diffs) == 1 and foil.background == query.background  # one object, one change
        a, b = diffs[0]
        moved = [
            f for f in ("shape", "colour", "size", "position", "count") if getattr(a, f) != getattr(b, f)
        ]
        assert len(moved) == 1
        changed[moved[0]] = changed.get(moved[0], 0) + 1
    assert min(changed["shape"], changed["colour"], changed["count"]) > 20, changed
    two = Query((ObjectQuery("star", "yellow", count=2),))
    foil = foil_query(two, TWO_YELLOW_STARS, np.random.default_rng(0))
    assert foil is not None and not satisfies(TWO_YELLOW_STARS, foil)


def test_rebinding_foils_use_the_scenes_own_values_and_near_counts() -> None:
    """With rebind=1 a changed colour, shape or size is one the picture shows on another object, a
    changed count is one off the truth, and the foil is still false of the scene."""
    rng = np.random.default_rng(11)
    rebound = 0
    for _ in range(400):
        scene = sample_scene(rng)
        query = sample_query(scene, rng)
        foil = foil_query(query, scene, rng, rebind=1.0)
        if foil is None:
            continue
        assert not satisfies(scene, foil), (scene, query, foil)
        a, b = next((a, b) for a, b in zip(query.objects, foil.objects, strict=True) if a != b)
        if a.count != b.count:
            held = sum(a.matches(o.shape, o.colour, o.size, o.position) for o in scene.objects)
            assert abs(b.count - held) == 1 or held not in (1, 2, 3), (held, b.count)
            continue
        field = next(f for f in ("shape", "colour", "size", "position") if getattr(a, f) != getattr(b, f))
        shown = {getattr(o, field) for o in scene.objects} - {getattr(a, field)}
        if shown:
            assert getattr(b, field) in shown, (scene, a, b)
            rebound += 1
    assert rebound > 100
    # "hai ngôi sao màu vàng" for two yellow stars: the near counts are one and three
    two = Query((ObjectQuery("star", "yellow", count=2),))
    counts = {
        f.objects[0].count
        for seed in range(40)
        if (f := foil_query(two, TWO_YELLOW_STARS, np.random.default_rng(seed), rebind=1.0)) is not None
        and f.objects[0].count != 2
    }
    assert counts == {1, 3}


def test_sampler_foils_are_negatives_of_their_own_image() -> None:
    rng = np.random.default_rng(6)
    scenes = [sample_scene(rng) for _ in range(64)]
    # full descriptions always have a near miss, so image k owns foil k
    sampler = CaptionSampler(CaptionSampling(full_prob=1.0, foil_prob=1.0), seed=0)
    texts, positives = sampler.sample(_records(scenes), list(range(64)))
    assert len(texts) == 128 and positives.shape == (128, 64)
    assert bool(positives[:64].diagonal().all())
    assert not bool(positives[64:].diagonal().any())
    for k in range(64):
        assert texts[64 + k] != texts[k]


def test_real_caption_foils_swap_one_colour_or_number_word() -> None:
    rng = random.Random(0)
    caption = "hai con chó màu nâu đang chạy trên bãi cỏ"
    for _ in range(50):
        foil = foil_caption(caption, rng)
        assert foil is not None
        diff = [(a, b) for a, b in zip(caption.split(), foil.split(), strict=True) if a != b]
        assert len(diff) == 1 and diff[0][0] in ("hai", "nâu")
    assert foil_caption("bãi biển lúc hoàng hôn", rng) is None
    recs = [ImageRecord(path=Path("0.jpg"), captions=["một con mèo trắng"], key="0.jpg")]
    sampler = CaptionSampler(
        CaptionSampling(crop_prob=0.0, word_dropout=0.0, prefix_prob=0.0, foil_prob=1.0), 0
    )
    texts, pos = sampler.sample(recs, [0])
    assert len(texts) == 2 and pos.tolist() == [[True], [False]]


def test_real_captions_keep_their_words_in_order() -> None:
    caption = "một người đàn ông đang đạp xe trên đường phố, bên cạnh một chiếc xe buýt màu vàng"
    rng = random.Random(0)
    cfg = CaptionSampling(crop_prob=1.0, word_dropout=0.1, prefix_prob=0.0)
    words = caption.replace(",", "").split()
    for _ in range(200):
        out = crop_caption(caption, rng, cfg).split()
        it = iter(words)
        assert all(w in it for w in out), out  # a subsequence: nothing invented, nothing reordered
    shorter = [len(crop_caption(caption, rng, cfg).split()) < len(words) for _ in range(50)]
    assert sum(shorter) > 25


def test_real_captions_that_are_identical_are_positives_of_each_other() -> None:
    recs = [
        ImageRecord(path=Path(f"{i}.jpg"), captions=[c], key=f"{i}.jpg")
        for i, c in enumerate(["một con mèo", "một con mèo", "bãi biển"])
    ]
    sampler = CaptionSampler(CaptionSampling(crop_prob=0.0, word_dropout=0.0, prefix_prob=0.0), seed=0)
    _, pos = sampler.sample(recs, [0, 1, 2])
    assert pos.tolist() == [[True, True, False], [True, True, False], [False, False, True]]


@pytest.mark.parametrize("kind", SUITES)
def test_suites_know_every_right_answer(kind: str) -> None:
    rng = np.random.default_rng(4)
    scenes = [sample_scene(rng) for _ in range(400)]
    texts, queries, rel = build_suite(kind, scenes, limit=50)
    assert 0 < len(texts) <= 50 and rel.shape == (len(texts), 400)
    for q, row in zip(queries, rel, strict=True):
        assert row.tolist() == [satisfies(s, q) for s in scenes]
    if kind == "count":
        assert any(o.count >= 2 for q in queries for o in q.objects)

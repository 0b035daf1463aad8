"""Retrieval metrics on hand-computed cases, including the scene-identical hit rule."""

from __future__ import annotations

import pytest
import torch

from vi_clip_train.metrics import retrieval_metrics


def _unit(rows: list[list[float]]) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.tensor(rows, dtype=torch.float32), dim=1)


def test_perfect_alignment() -> None:
    e = torch.eye(4)
    m = retrieval_metrics(e, e, list("abcd"), list("abcd"))
    assert m["t2i_r1"] == m["i2t_r1"] == m["t2i_map"] == 1.0
    assert m["t2i_median_rank"] == 1.0


def test_ranks_and_map_by_hand() -> None:
    images = _unit([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    # query a ranks its image 2nd (behind b); query b ranks its image 1st; query c ranks its image 3rd.
    texts = _unit([[0.5, 0.9, 0.0], [0, 1, 0], [0.9, 0.5, 0.1]])
    m = retrieval_metrics(images, texts, list("abc"), list("abc"), ks=(1, 2))
    assert m["t2i_r1"] == pytest.approx(1 / 3)
    assert m["t2i_r2"] == pytest.approx(2 / 3)
    assert m["t2i_median_rank"] == 2.0
    assert m["t2i_map"] == pytest.approx((1 / 2 + 1 + 1 / 3) / 3)


def test_scene_identical_image_counts_as_a_hit() -> None:
    images = _unit([[1, 0], [0.9, 0.1], [0, 1]])
    texts = _unit([[0.9, 0.1], [0, 1], [0.99, 0.01]])  # the first is closest to image 1, not image 0
    same = retrieval_metrics(images, texts, ["s0", "s0", "s1"], ["s0", "s1", "s0"], ks=(1,))
    assert same["t2i_r1"] == 1.0  # image 1 shows the same scene as image 0
    distinct = retrieval_metrics(images, texts, ["s0", "s2", "s1"], ["s0", "s1", "s2"], ks=(1,))
    assert distinct["t2i_r1"] == pytest.approx(1 / 3)


def test_several_captions_per_image_for_i2t() -> None:
    images = _unit([[1, 0], [0, 1]])
    texts = _unit([[1, 0.1], [0.1, 1], [1, 0]])
    m = retrieval_metrics(images, texts, ["x", "y"], ["x", "y", "x"], ks=(1,))
    assert m["i2t_r1"] == 1.0 and m["t2i_r1"] == 1.0


def test_query_without_any_relevant_item_is_an_error() -> None:
    with pytest.raises(ValueError, match="relevant"):
        retrieval_metrics(torch.eye(2), torch.eye(2), ["a", "b"], ["a", "c"])

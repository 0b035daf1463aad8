"""Multi-positive metrics and loss on hand-made cases with known answers; calibration's threshold;
augmentation that keeps what captions say."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import vi_clip
from vi_clip.checkpoint import read_calibration, write_calibration
from vi_clip_train.augment import Augmentation, ImageAugmenter
from vi_clip_train.calibrate import best_threshold
from vi_clip_train.metrics import precision_metrics, top_scores
from vi_clip_train.optim import clip_loss, multi_positive_loss, no_match_loss
from vi_clip_train.vishapes.ood import OOD_SETS, ood_queries


def test_precision_and_map_on_a_hand_made_case() -> None:
    # query 0: gallery 0 and 2 are right, ranked 1st and 3rd; query 1: only gallery 3, ranked 2nd.
    sim = torch.tensor([[0.9, 0.8, 0.7, 0.1], [0.2, 0.1, 0.9, 0.5]])
    rel = torch.tensor([[True, False, True, False], [False, False, False, True]])
    m = precision_metrics(sim, rel, ks=(1, 2, 4))
    assert m["p1"] == pytest.approx(0.5)
    assert m["p2"] == pytest.approx((0.5 + 0.5) / 2)
    assert m["p4"] == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert m["map"] == pytest.approx(((1 + 2 / 3) / 2 + 1 / 2) / 2)
    best, right = top_scores(sim, rel)
    assert best.tolist() == pytest.approx([0.9, 0.9]) and right.tolist() == [True, False]


def test_multi_positive_loss_is_clip_loss_with_one_positive_each() -> None:
    g = torch.Generator().manual_seed(0)
    img = torch.nn.functional.normalize(torch.randn(6, 8, generator=g), dim=-1)
    txt = torch.nn.functional.normalize(torch.randn(6, 8, generator=g), dim=-1)
    scale = torch.tensor(10.0)
    eye = torch.eye(6, dtype=torch.bool)
    assert multi_positive_loss(img, txt, scale, eye).item() == pytest.approx(
        clip_loss(img, txt, scale).item(), rel=1e-5
    )


def test_a_second_true_image_is_not_pushed_away() -> None:
    """Text 0 is true of images 0 and 1: with both marked, the loss no longer wants image 1 far."""
    img = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]), dim=-1)
    txt = img.clone()
    scale = torch.tensor(20.0)
    masked = torch.eye(3, dtype=torch.bool)
    masked[0, 1] = masked[1, 0] = True
    assert multi_positive_loss(img, txt, scale, masked) < multi_positive_loss(
        img, txt, scale, torch.eye(3, dtype=torch.bool)
    )


def test_foils_only_enter_the_image_to_text_softmax() -> None:
    """Extra texts past the batch's own: a foil close to an image raises the loss, one that is true
    of another image of the batch is masked there, and text→image terms ignore foils."""
    img = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), dim=-1)
    anchors = img.clone()
    scale = torch.tensor(10.0)
    far, near = torch.tensor([[-1.0, 0.0]]), torch.nn.functional.normalize(torch.tensor([[1.0, 0.2]]), dim=-1)
    eye = torch.eye(2, dtype=torch.bool)
    base = multi_positive_loss(img, anchors, scale, eye)
    with_far = multi_positive_loss(
        img, torch.cat([anchors, far]), scale, torch.cat([eye, torch.zeros(1, 2, dtype=torch.bool)])
    )
    with_near = multi_positive_loss(
        img, torch.cat([anchors, near]), scale, torch.cat([eye, torch.zeros(1, 2, dtype=torch.bool)])
    )
    assert base < with_far < with_near
    # the near text true of image 0 too: no longer pushed from image 0, still from image 1
    true_of_0 = torch.cat([eye, torch.tensor([[True, False]])])
    masked = multi_positive_loss(img, torch.cat([anchors, near]), scale, true_of_0)
    assert base < masked < with_near


def test_no_match_loss_only_pushes_scores_over_the_margin() -> None:
    img = torch.tensor([[1.0, 0.0]])
    assert no_match_loss(img, torch.tensor([[0.0, 1.0]]), margin=0.1).item() == 0.0
    assert no_match_loss(img, torch.tensor([[0.6, 0.8]]), margin=0.1).item() == pytest.approx(0.5)


def test_threshold_separates_and_sits_between_the_groups() -> None:
    keep = np.array([0.6, 0.7, 0.8, 0.9])
    reject = np.array([0.1, 0.2, 0.3])
    t = best_threshold(keep, reject)
    assert 0.3 < t < 0.6
    # Overlapping groups: any cut in (0.3, 0.5] or (0.55, 0.6] is as good (one error either way).
    overlap = best_threshold(np.array([0.5, 0.6, 0.7]), np.array([0.2, 0.55, 0.3]))
    assert 0.3 < overlap <= 0.5 or 0.55 < overlap <= 0.6


def test_no_match_sets_are_disjoint_vietnamese_and_sized() -> None:
    sets = {w: set(ood_queries(w)) for w in OOD_SETS}
    assert all(len(s) >= 250 for s in sets.values())
    for a in OOD_SETS:
        for b in OOD_SETS:
            if a < b:
                assert not sets[a] & sets[b]
    assert any(t.startswith("con mèo") for t in sets["eval"])
    assert not any("con mèo" in t for t in sets["train"] | sets["calibration"])


def test_calibration_round_trips_through_the_checkpoint(tmp_path: Path) -> None:
    model = vi_clip.create_model("vi-tiny", embed_dim=32)
    assert model.relevance_threshold is None
    vi_clip.save_checkpoint(model, tmp_path)
    write_calibration(tmp_path, {"threshold": 0.42, "method": "test"})
    loaded = vi_clip.create_model(str(tmp_path))
    assert loaded.relevance_threshold == pytest.approx(0.42)
    assert read_calibration(tmp_path) == {"threshold": 0.42, "method": "test"}
    (tmp_path / "calibration.json").write_text('{"threshold": 7}')
    with pytest.raises(ValueError, match="threshold"):
        vi_clip.create_model(str(tmp_path))


def test_augmentation_is_seeded_and_keeps_colour_names() -> None:
    batch = torch.zeros(64, 3, 32, 32, dtype=torch.uint8)
    batch[:, 0] = 220  # a red picture
    batch[:, 1:] = 30
    a = ImageAugmenter(Augmentation(), seed=1)(batch)
    b = ImageAugmenter(Augmentation(), seed=1)(batch)
    assert torch.equal(a, b) and a.dtype == torch.uint8 and a.shape == batch.shape
    assert not torch.equal(a, batch)
    mean = a.float().mean(dim=(2, 3))
    assert bool((mean[:, 0] > 170).all() and (mean[:, 1:] < 80).all())  # still red, never tinted
    assert math.isfinite(float(a.float().std()))

"""Auxiliary tags: what a scene holds, the vocabulary, targets, real data's own tags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.support.scenes import TWO_YELLOW_STARS
from vi_clip_train.data import ImageRecord, load_records
from vi_clip_train.tags import TagHead, TagVocab, TowerFeatures, scene_tags, tag_loss


def test_scene_tags_name_shapes_colours_sizes_and_exact_counts() -> None:
    tags = scene_tags(TWO_YELLOW_STARS)
    assert {"shape:star", "shape:circle", "colour:yellow", "colour:red"} <= set(tags)
    assert {"object:star:yellow", "object:circle:red", "count:star:2", "count:circle:1"} <= set(tags)
    assert {"object:star:yellow:small", "object:star:yellow:large", "object:circle:red:small"} <= set(tags)
    assert {"size:star:small", "size:star:large", "size:circle:small"} <= set(tags)
    assert {"count:star:yellow:2", "count:circle:red:1"} <= set(tags)
    assert "object:star:red" not in tags and "count:star:1" not in tags
    assert "size:circle:large" not in tags and "count:star:yellow:1" not in tags


def test_vocab_drops_rare_tags_and_targets_mark_what_each_picture_holds() -> None:
    recs = [ImageRecord(Path(f"{i}.png"), ["x"], f"{i}", scene=TWO_YELLOW_STARS) for i in range(3)]
    recs.append(ImageRecord(Path("mèo.jpg"), ["một con mèo"], "mèo", tags=["mèo"]))
    vocab = TagVocab(recs, min_count=2)
    assert "mèo" not in vocab.tags and "count:star:2" in vocab.tags
    targets = vocab.targets(recs, [0, 3])
    assert targets.shape == (2, len(vocab))
    assert targets[0].sum() == len(scene_tags(TWO_YELLOW_STARS)) and targets[1].sum() == 0


def test_jsonl_rows_carry_their_tags(tmp_path: Path) -> None:
    rows = [
        {"image": "a.jpg", "caption": "hai con chó trên bãi cỏ", "tags": ["chó", "cỏ"]},
        {"image": "a.jpg", "caption": "chó đang chơi", "tags": ["chó"]},
        {"image": "b.jpg", "caption": "bãi biển"},
    ]
    path = tmp_path / "captions.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    recs = load_records(path)
    assert [r.tags for r in recs] == [["chó", "cỏ"], []]


def test_the_head_learns_tags_from_embeddings() -> None:
    g = torch.Generator().manual_seed(0)
    img = torch.nn.functional.normalize(torch.randn(32, 16, generator=g), dim=-1)
    targets = (img[:, :4] > 0).float()  # tags a linear map can read
    head = TagHead(16, 4, scale=10.0)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    first = tag_loss(head, img, targets).item()
    for _ in range(100):
        opt.zero_grad()
        tag_loss(head, img, targets).backward()
        opt.step()
    assert tag_loss(head, img, targets).item() < 0.3 * first


def test_tower_features_hand_the_last_tower_output_once() -> None:
    tower = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(2))
    features = TowerFeatures(tower)
    out = tower(torch.zeros(5, 3, 8, 8))
    got = features.take()
    assert got.shape == (5, 16) and torch.equal(got, out.flatten(1))
    with pytest.raises(RuntimeError):
        features.take()  # used up: a stale output is never read twice
    features.close()
    tower(torch.zeros(1, 3, 8, 8))
    assert features.value is None

"""ViShapes-vi: deterministic, complete vocabulary, 1-3 objects, held-out template only in val/test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vi_clip_train.data import load_records
from vi_clip_train.vishapes import HELD_OUT_TEMPLATE, TRAIN_TEMPLATES, caption, sample_scene, scene_key
from vi_clip_train.vishapes.__main__ import generate, main
from vi_clip_train.vishapes.captions import COLOUR_WORDS, POSITION_WORDS, SHAPE_WORDS, SIZE_WORDS
from vi_clip_train.vishapes.scene import Scene, SceneObject


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vishapes")
    generate(out, {"train": 40, "val": 10, "test": 12}, seed=3, size=32, workers=1)
    return out


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_splits_on_disk(world: Path) -> None:
    for split, n in (("train", 40), ("val", 10), ("test", 12)):
        assert len(list((world / split / "images").glob("*.png"))) == n
        assert len(_rows(world / split / "scenes.jsonl")) == n
    train = _rows(world / "train" / "captions.jsonl")
    assert {r["template"] for r in train} == set(TRAIN_TEMPLATES)
    assert {r["template"] for r in _rows(world / "test" / "captions.jsonl")} == {HELD_OUT_TEMPLATE}


def test_same_seed_same_world_whatever_the_workers(world: Path, tmp_path: Path) -> None:
    generate(tmp_path, {"train": 40, "val": 10, "test": 12}, seed=3, size=32, workers=2)
    for split in ("train", "test"):
        assert (tmp_path / split / "captions.jsonl").read_bytes() == (
            world / split / "captions.jsonl"
        ).read_bytes()
        assert (tmp_path / split / "images" / "000007.png").read_bytes() == (
            world / split / "images" / "000007.png"
        ).read_bytes()


def test_scene_keys_reach_the_loader(world: Path) -> None:
    recs = load_records(world / "test" / "captions.jsonl")
    scenes = _rows(world / "test" / "scenes.jsonl")
    assert recs[0].key == scene_key(Scene.from_dict(scenes[0]["scene"]))
    assert all(len(r.captions) == 1 for r in recs)


def test_scenes_have_one_to_three_objects_on_distinct_cells() -> None:
    rng = np.random.default_rng(0)
    scenes = [sample_scene(rng) for _ in range(300)]
    assert {len(s.objects) for s in scenes} == {1, 2, 3}
    assert all(len({o.position for o in s.objects}) == len(s.objects) for s in scenes)


def test_vocabulary_of_the_issue() -> None:
    words = {w for table in (SHAPE_WORDS, COLOUR_WORDS, SIZE_WORDS) for ws in table.values() for w in ws}
    assert {
        "hình tròn",
        "vòng tròn",
        "hình vuông",
        "hình tam giác",
        "ngôi sao",
        "trái tim",
        "hình lục giác",
        "hình thoi",
        "hình chữ thập",
        "đỏ",
        "cam",
        "vàng",
        "xanh lá",
        "xanh dương",
        "xanh lam",
        "tím",
        "hồng",
        "nâu",
        "đen",
        "nhỏ",
        "lớn",
        "to",
    } <= words
    assert "ở góc trên bên trái" in POSITION_WORDS.values() and "ở giữa" in POSITION_WORDS.values()


def test_repeated_objects_are_counted() -> None:
    star = [SceneObject("star", "yellow", "small", p) for p in ("left", "center")]
    scene = Scene("white", (*star, SceneObject("heart", "red", "large", "top")))
    text = caption(scene, "t0", np.random.default_rng(0))
    assert "hai ngôi sao màu vàng nhỏ ở bên trái và ở giữa" in text
    assert "một trái tim màu đỏ" in text and text.endswith("trên nền trắng")
    held_out = caption(scene, HELD_OUT_TEMPLATE, np.random.default_rng(0))
    assert held_out.startswith("trên nền trắng, ") and held_out.count(" có một ") == 3


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(
        [
            "--out",
            str(tmp_path),
            "--train",
            "4",
            "--val",
            "2",
            "--test",
            "2",
            "--size",
            "16",
            "--workers",
            "1",
        ]
    )
    assert json.loads((tmp_path / "manifest.json").read_text())["held_out_template"] == HELD_OUT_TEMPLATE
    assert "ViShapes-vi written" in capsys.readouterr().out

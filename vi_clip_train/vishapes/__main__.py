"""`python -m vi_clip_train.vishapes --out data/vishapes-vi`: write the splits to disk.

Each split is `<out>/<split>/images/*.png`, `captions.jsonl` (image, caption, template) and
`scenes.jsonl` (image, scene). Every image is drawn from its own seed, so the output is identical
whatever the number of worker processes.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .captions import HELD_OUT_TEMPLATE, TRAIN_TEMPLATES, caption
from .render import render
from .scene import sample_scene
from .shifted import render_shifted

SPLIT_IDS = {"train": 0, "val": 1, "test": 2, "test-shifted": 3}
# Drawn by the evaluation-only renderer: the same kind of scenes, pictures unlike the training ones.
SHIFTED_SPLITS = ("test-shifted",)


def _make(args: tuple[str, int, int, int, str]) -> tuple[list[dict[str, object]], dict[str, object]]:
    split, index, seed, size, out = args
    rng = np.random.default_rng([seed, SPLIT_IDS[split], index])
    scene = sample_scene(rng)
    name = f"images/{index:06d}.png"
    draw = render_shifted if split in SHIFTED_SPLITS else render
    draw(scene, size, rng).save(Path(out) / split / name, optimize=False, compress_level=1)
    templates = list(TRAIN_TEMPLATES) if split == "train" else [HELD_OUT_TEMPLATE]
    captions: list[dict[str, object]] = [
        {"image": name, "caption": caption(scene, t, rng), "template": t} for t in templates
    ]
    return captions, {"image": name, "scene": scene.to_dict()}


def generate(out: Path, counts: dict[str, int], seed: int, size: int, workers: int) -> None:
    for split, n in counts.items():
        (out / split / "images").mkdir(parents=True, exist_ok=True)
        jobs = [(split, i, seed, size, str(out)) for i in range(n)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_make, jobs, chunksize=256))
        with (
            (out / split / "captions.jsonl").open("w", encoding="utf-8") as cap_f,
            (out / split / "scenes.jsonl").open("w", encoding="utf-8") as scene_f,
        ):
            for captions, scene in results:
                for row in captions:
                    cap_f.write(json.dumps(row, ensure_ascii=False) + "\n")
                scene_f.write(json.dumps(scene, ensure_ascii=False) + "\n")
    manifest = {"seed": seed, "image_size": size, "splits": counts, "held_out_template": HELD_OUT_TEMPLATE}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("data/vishapes-vi"))
    p.add_argument("--train", type=int, default=20000)
    p.add_argument("--val", type=int, default=500)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--test-shifted", type=int, default=1000, help="test images drawn by the shifted renderer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=64, help="image side in pixels (the model's input size)")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    start = time.perf_counter()
    generate(
        a.out,
        {"train": a.train, "val": a.val, "test": a.test, "test-shifted": a.test_shifted},
        a.seed,
        a.size,
        a.workers,
    )
    print(f"ViShapes-vi written to {a.out} in {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()

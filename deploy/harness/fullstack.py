"""The whole system as real processes for integration, fault and browser tests and the benchmarks."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deploy.harness.ready import wait_ready
from deploy.stack import Ports, Stack, service_specs

REPO = Path(__file__).resolve().parents[2]
DEMO_CHECKPOINT = REPO / "checkpoints" / "vi-tiny-vishapes"


def demo_model() -> str:
    """The trained demo checkpoint (what users get), or the random-init tiny model before it exists."""
    return str(DEMO_CHECKPOINT) if (DEMO_CHECKPOINT / "config.json").is_file() else "vi-tiny"


@dataclass
class RunningStack:
    stack: Stack
    urls: dict[str, str]
    catalog_url: str

    @property
    def gateway(self) -> str:
        return self.urls["gateway"]


@contextlib.contextmanager
def full_stack(
    env: dict[str, str],
    *,
    indexers: int = 1,
    search_shards: list[list[int]] | None = None,
    shard_count: int | None = None,
) -> Iterator[RunningStack]:
    """Every service on free ports. Without a `CATALOG_URL` in `env`, the stack's gateway and indexers
    share a SQLite catalog of its own, removed when it stops."""
    with contextlib.ExitStack() as cleanup:
        if "CATALOG_URL" not in env:
            folder = tempfile.mkdtemp(prefix="catalog-")
            cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
            env = {**env, "CATALOG_URL": f"sqlite:///{folder}/catalog.db"}
        specs = service_specs(
            Ports.free(),
            {"ENCODER_MODEL": demo_model(), **env},
            indexers=indexers,
            search_shards=search_shards,
            shard_count=shard_count,
        )
        stack = Stack(specs, cwd=str(REPO), echo=bool(os.environ.get("STACK_ECHO")))
        with stack.running(timeout_s=120):
            running = RunningStack(stack, {s.name: s.url for s in specs}, env["CATALOG_URL"])
            wait_ready(running.gateway)
            yield running


@dataclass(frozen=True)
class ShapeImage:
    path: Path
    caption: str
    scene: str


def vishapes(folder: Path, count: int, size: int = 64, seed: int = 7) -> list[ShapeImage]:
    """ViShapes-vi images with their held-out-template captions and scene keys."""
    from vi_clip_train.vishapes.__main__ import generate
    from vi_clip_train.vishapes.scene import Scene, scene_key

    if not (folder / "test" / "captions.jsonl").is_file():
        generate(folder, {"test": count}, seed=seed, size=size, workers=1)
    captions = {}
    for line in (folder / "test" / "captions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        captions[row["image"]] = row["caption"]
    out = []
    for line in (folder / "test" / "scenes.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        key = scene_key(Scene.from_dict(row["scene"]))
        out.append(ShapeImage(folder / "test" / row["image"], captions[row["image"]], key))
    return out[:count]

"""Image-caption data sets: UIT-ViIC / KTVIC (COCO-style JSON), JSONL and CSV, and ViShapes-vi.

Every loader gives `ImageRecord`s: one image, all its captions, and a key. Images with the same key
count as the same picture in evaluation (ViShapes-vi: identical scenes); by default the key is the path.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from imaging.decoding import decode_image
from vi_clip.transforms import to_uint8_transform

from .vishapes.scene import Scene, scene_key

IMAGE_FIELDS = ("image", "image_path", "file_name", "filepath", "path")
CAPTION_FIELDS = ("caption", "text", "sentence")
SCENES_FILE = "scenes.jsonl"


@dataclass
class ImageRecord:
    path: Path
    captions: list[str] = field(default_factory=list)
    key: str = ""
    scene: Scene | None = None  # ViShapes-vi: the structured truth of the picture
    tags: list[str] = field(default_factory=list)  # what the picture holds, for `--aux-tag-weight`


def _field(row: dict[str, Any], names: Iterable[str], source: Path) -> str:
    for name in names:
        if row.get(name) not in (None, ""):
            return str(row[name])
    raise ValueError(f"{source}: a row has none of the fields {tuple(names)}: {row}")


def _group(pairs: Iterable[tuple[str, str]], root: Path) -> list[ImageRecord]:
    """(image, caption) pairs to one record per image, in first-seen order."""
    records: dict[str, ImageRecord] = {}
    for image, text in pairs:
        rec = records.setdefault(image, ImageRecord(root / image, key=image))
        rec.captions.append(text)
    return list(records.values())


def load_coco(path: Path, root: Path) -> list[ImageRecord]:
    """UIT-ViIC / KTVIC: `images` [{id, file_name or filename}], `annotations` [{image_id, caption}]."""
    data = json.loads(path.read_text(encoding="utf-8"))
    files = {img["id"]: img.get("file_name") or img["filename"] for img in data["images"]}
    pairs = []
    for ann in data["annotations"]:
        if ann["image_id"] not in files:
            raise ValueError(f"{path}: annotation {ann.get('id')} names unknown image_id {ann['image_id']}")
        pairs.append((files[ann["image_id"]], ann["caption"]))
    return _group(pairs, root)


def load_jsonl(path: Path, root: Path) -> list[ImageRecord]:
    """One row per (image, caption); an optional `tags` list names what the picture holds."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = _group(((_field(r, IMAGE_FIELDS, path), _field(r, CAPTION_FIELDS, path)) for r in rows), root)
    by_key = {r.key: r for r in records}
    for row in rows:
        rec = by_key[_field(row, IMAGE_FIELDS, path)]
        for tag in row.get("tags") or ():
            if str(tag) not in rec.tags:
                rec.tags.append(str(tag))
    return records


def load_csv(path: Path, root: Path) -> list[ImageRecord]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return _group(((_field(r, IMAGE_FIELDS, path), _field(r, CAPTION_FIELDS, path)) for r in rows), root)


def _attach_scene_keys(records: list[ImageRecord], scenes_path: Path, root: Path) -> None:
    by_path = {}
    for line in scenes_path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        by_path[root / row["image"]] = Scene.from_dict(row["scene"])
    for rec in records:
        rec.scene = by_path[rec.path]
        rec.key = scene_key(rec.scene)


def load_records(path: str | Path, image_root: str | Path | None = None) -> list[ImageRecord]:
    """Read a caption file by extension (.json COCO-style, .jsonl, .csv); image paths are relative to
    `image_root` (default: the file's folder). A `scenes.jsonl` beside it supplies scene keys."""
    path = Path(path)
    root = Path(image_root) if image_root is not None else path.parent
    loaders = {".json": load_coco, ".jsonl": load_jsonl, ".csv": load_csv}
    if path.suffix not in loaders:
        raise ValueError(f"{path}: unknown caption file type; use one of {sorted(loaders)}")
    records = loaders[path.suffix](path, root)
    if not records:
        raise ValueError(f"{path}: no image-caption pairs")
    scenes = path.parent / SCENES_FILE
    if scenes.is_file():
        _attach_scene_keys(records, scenes, root)
    return records


def load_image(path: Path) -> Image.Image:
    """Through the services' decoder: same EXIF, CMYK, 16-bit and alpha handling as serving."""
    return decode_image(path.read_bytes())


def preload_images(
    records: list[ImageRecord],
    image_size: int,
    workers: int = 2,
    transform: Callable[[Image.Image], torch.Tensor] | None = None,
) -> torch.Tensor:
    """All images, resized and centre-cropped once (or by the model's own `transform.to_uint8`), as
    uint8 [N,3,S,S] (N*3*S*S bytes of memory).

    Decoding once instead of every epoch is what keeps a 2-core training run CPU-bound on the model.
    """
    transform = transform or to_uint8_transform(image_size)
    out = torch.empty(len(records), 3, image_size, image_size, dtype=torch.uint8)

    def fill(i: int) -> None:
        out[i] = transform(load_image(records[i].path))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fill, range(len(records))))
    return out

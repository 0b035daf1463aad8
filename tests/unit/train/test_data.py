"""Loaders read UIT-ViIC, KTVIC, JSONL and CSV files in their real shapes, and any image a user has."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vi_clip_train.data import load_records, preload_images

FIXTURES = Path(__file__).parents[2] / "fixtures" / "captions"


def _red_left_image() -> Image.Image:
    """Red on the left half, blue on the right: rotation-sensitive."""
    arr = np.zeros((40, 60, 3), np.uint8)
    arr[:, :30] = (255, 0, 0)
    arr[:, 30:] = (0, 0, 255)
    return Image.fromarray(arr)


def _write_user_images(root: Path, names: list[str]) -> None:
    """One of each awkward kind: EXIF-rotated JPEG, CMYK JPEG, 16-bit PNG, palette PNG with alpha."""
    root.mkdir(parents=True, exist_ok=True)
    kinds = ["exif", "cmyk", "png16", "palette"]
    for name, kind in zip(names, kinds * 2, strict=False):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        img = _red_left_image()
        if kind == "exif":  # stored rotated, EXIF orientation 6 says "rotate back 90° clockwise"
            exif = Image.Exif()
            exif[0x0112] = 6
            buf = io.BytesIO()
            img.rotate(90, expand=True).save(buf, "JPEG", exif=exif.tobytes(), quality=95)
            data = buf.getvalue()
        elif kind == "cmyk":
            buf = io.BytesIO()
            img.convert("CMYK").save(buf, "JPEG")
            data = buf.getvalue()
        elif kind == "png16":
            buf = io.BytesIO()
            Image.fromarray(np.asarray(img.convert("L")).astype(np.uint16) * 257).save(buf, "PNG")
            data = buf.getvalue()
        else:
            buf = io.BytesIO()
            img.convert("RGBA").convert("P", palette=Image.Palette.ADAPTIVE).save(buf, "PNG", transparency=0)
            data = buf.getvalue()
        path.write_bytes(data)


def test_uitviic_coco_json_groups_captions_by_image() -> None:
    recs = load_records(FIXTURES / "uitviic_tiny.json", image_root="/coco/train2017")
    assert [r.path.name for r in recs] == ["000000000139.jpg", "000000000285.jpg", "000000000632.png"]
    assert [len(r.captions) for r in recs] == [2, 1, 2]
    assert recs[0].path == Path("/coco/train2017/000000000139.jpg")
    assert len({r.key for r in recs}) == 3


def test_ktvic_json_uses_filename_and_raw_captions() -> None:
    recs = load_records(FIXTURES / "ktvic_tiny.json")
    assert recs[0].path == FIXTURES / "00000001.jpg"
    assert recs[0].captions == ["một người phụ nữ đang bán hoa quả ở chợ", "gánh hàng rong trên vỉa hè"]


@pytest.mark.parametrize("name", ["pairs.jsonl", "pairs.csv"])
def test_jsonl_and_csv_pairs(name: str) -> None:
    recs = load_records(FIXTURES / name, image_root="/data")
    assert [r.path for r in recs] == [Path("/data/photos/a.jpg"), Path("/data/photos/b.png")]
    assert recs[1].captions == ["bát phở bò nóng hổi"]
    if name == "pairs.csv":
        assert recs[0].captions == ["con mèo nằm trên ghế sofa, rất lười"]


def test_unknown_extension_and_bad_rows_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown caption file type"):
        load_records(tmp_path / "captions.txt")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"img": "x.jpg", "caption": "c"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="none of the fields"):
        load_records(bad)


def test_awkward_user_images_load_as_rgb(tmp_path: Path) -> None:
    recs = load_records(FIXTURES / "uitviic_tiny.json", image_root=tmp_path)
    recs += load_records(FIXTURES / "ktvic_tiny.json", image_root=tmp_path)
    _write_user_images(tmp_path, [r.path.name for r in recs])
    pixels = preload_images(recs, image_size=16)
    assert pixels.shape == (5, 3, 16, 16) and pixels.dtype == torch.uint8
    rotated = pixels[0].float()  # the EXIF image: upright again, so red on the left
    assert rotated[0, :, :4].mean() > 200 and rotated[2, :, -4:].mean() > 200
    cmyk = pixels[1].float()
    assert cmyk[0, :, :4].mean() > 200 and cmyk[2, :, :4].mean() < 60

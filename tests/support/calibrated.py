"""The one place tests get a demo checkpoint that carries a relevance calibration.

Once `checkpoints/vi-tiny-vishapes` ships its own `calibration.json` (written by training),
tests serve it unchanged. Until then they serve a copy with a stand-in calibration: the
threshold lies just above the best score any out-of-domain phrase below reaches over the
test's own images, so those phrases have no strong match there, as the trained
calibration promises for out-of-domain queries.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from deploy.harness.fullstack import DEMO_CHECKPOINT

# Things that are not in the ViShapes-vi world (none comes from a test set).
OUT_OF_DOMAIN = [
    "một con mèo đang ngủ trên ghế sofa",
    "bãi biển lúc hoàng hôn",
    "một bát phở bò nóng hổi",
    "chiếc xe máy đỗ bên đường",
    "người đàn ông đang đọc báo",
    "cánh đồng lúa chín vàng",
]
MARGIN = 0.02


def calibrated_checkpoint(folder: Path, images: Sequence[Path]) -> Path:
    """The demo checkpoint with a `calibration.json` (a copy in `folder` when it has none yet)."""
    from vi_clip.checkpoint import CALIBRATION_FILE, read_calibration, write_calibration

    if read_calibration(DEMO_CHECKPOINT) is not None:
        return DEMO_CHECKPOINT
    copy = folder / DEMO_CHECKPOINT.name
    if (copy / CALIBRATION_FILE).is_file():
        return copy
    shutil.copytree(DEMO_CHECKPOINT, copy, dirs_exist_ok=True)
    best = _best_out_of_domain_score(copy, images)
    write_calibration(copy, {"threshold": round(best + MARGIN, 4), "out_of_domain_best": best})
    return copy


def _best_out_of_domain_score(checkpoint: Path, images: Sequence[Path]) -> float:
    import torch
    from PIL import Image

    import vi_clip

    model = vi_clip.create_model(str(checkpoint), device="cpu")
    with torch.inference_mode():
        texts = model.encode_text(OUT_OF_DOMAIN)
        pixels = torch.stack([model.image_transform(Image.open(p).convert("RGB")) for p in images])
        vectors = model.encode_image(pixels)
    return float((texts @ vectors.T).max())

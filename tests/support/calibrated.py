"""The one place tests get a demo checkpoint that carries a relevance calibration.

`checkpoints/vi-tiny-vishapes` ships the `calibration.json` its training wrote (`make train-demo`
calibrates on the validation split), so tests serve it unchanged and check what it promises.
"""

from __future__ import annotations

from pathlib import Path

from deploy.harness.fullstack import DEMO_CHECKPOINT

# Things that are not in the ViShapes-vi world (none comes from a test set or a training set).
OUT_OF_DOMAIN = [
    "một con mèo đang ngủ trên ghế sofa",
    "bãi biển lúc hoàng hôn",
    "một bát phở bò nóng hổi",
    "chiếc xe máy đỗ bên đường",
    "người đàn ông đang đọc báo",
    "cánh đồng lúa chín vàng",
]


def calibrated_checkpoint() -> Path:
    """The demo checkpoint, which carries its own `calibration.json`."""
    from vi_clip.checkpoint import read_calibration

    if read_calibration(DEMO_CHECKPOINT) is None:
        raise FileNotFoundError(f"{DEMO_CHECKPOINT} has no calibration.json; run make train-demo")
    return DEMO_CHECKPOINT

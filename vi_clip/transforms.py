"""Image preprocessing: the eval transform every image (training, indexing, queries) goes through."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image
from torchvision.transforms import v2

RESIZE_MODES = ("shortest", "squash")


def to_uint8_transform(
    image_size: int, resize: str = "shortest", interpolation: str = "bicubic"
) -> v2.Compose:
    """uint8 [3,H,W], cheap to cache for a whole data set. `shortest`: shorter side to `image_size`,
    centre crop (CLIP); `squash`: both sides to `image_size`, aspect ratio lost (SigLIP)."""
    if resize not in RESIZE_MODES:
        raise ValueError(f"unknown resize mode {resize!r}; known: {RESIZE_MODES}")
    mode = v2.InterpolationMode(interpolation)
    if resize == "squash":
        steps: list[v2.Transform] = [v2.Resize((image_size, image_size), interpolation=mode, antialias=True)]
    else:
        steps = [v2.Resize(image_size, interpolation=mode, antialias=True), v2.CenterCrop(image_size)]
    return v2.Compose([v2.PILToTensor(), *steps])


class Normalize:
    """uint8 or [0,1] float pixels to the tower's normalised float input; works on [3,H,W] and [N,3,H,W]."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean = torch.tensor(mean).view(3, 1, 1)
        self.std = torch.tensor(std).view(3, 1, 1)

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels.float()
        if pixels.dtype == torch.uint8:
            x = x / 255.0
        return (x - self.mean.to(x.device)) / self.std.to(x.device)


class ImageTransform:
    """PIL image -> normalised float tensor [3,H,W], the eval transform of a model."""

    def __init__(
        self,
        image_size: int,
        mean: Sequence[float],
        std: Sequence[float],
        resize: str = "shortest",
        interpolation: str = "bicubic",
    ) -> None:
        self.image_size = image_size
        self.to_uint8 = to_uint8_transform(image_size, resize, interpolation)
        self.normalize = Normalize(mean, std)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        return self.normalize(self.to_uint8(image.convert("RGB")))

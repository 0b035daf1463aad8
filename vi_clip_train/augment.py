"""Training-time image augmentation on uint8 batches: what a real photo pipeline does to pictures.

Mild random resized crops (objects stay in their grid cell), brightness / contrast / saturation
jitter too small to change a colour's name, Gaussian blur, sensor noise and JPEG re-encoding.
Deterministic for a given seed; runs on the preloaded uint8 tensors, so no image is decoded again.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torchvision.io import decode_jpeg, encode_jpeg
from torchvision.transforms.v2 import functional as TF


@dataclass(frozen=True)
class Augmentation:
    crop_prob: float = 0.5
    crop_scale: tuple[float, float] = (0.85, 1.0)  # share of the side kept
    jitter: float = 0.1  # brightness / contrast / saturation factors in [1 - j, 1 + j]
    blur_prob: float = 0.25
    blur_sigma: tuple[float, float] = (0.3, 1.1)
    noise_prob: float = 0.25
    noise_std: tuple[float, float] = (1.0, 6.0)  # in 0-255 units
    jpeg_prob: float = 0.4
    jpeg_quality: tuple[int, int] = (40, 92)


BLUR_LEVELS = 3
JPEG_LEVELS = 4
AUGMENTATIONS = {"none": None, "standard": Augmentation()}


class ImageAugmenter:
    def __init__(self, cfg: Augmentation, seed: int) -> None:
        self.cfg = cfg
        self.gen = torch.Generator().manual_seed(seed)

    def _u(self, lo: float, hi: float, n: int = 1) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=self.gen)

    def _coin(self, p: float, n: int) -> torch.Tensor:
        return torch.rand(n, generator=self.gen) < p

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        """uint8 [B,3,H,W] -> augmented uint8 [B,3,H,W] (a new tensor), batched where it can be."""
        cfg, n = self.cfg, len(batch)
        x = self._crop(batch.float())
        b, c, s = (self._u(1 - cfg.jitter, 1 + cfg.jitter, n).view(n, 1, 1, 1) for _ in range(3))
        grey = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
        x = grey + (x - grey) * s
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * c + mean
        x = x * b
        x = self._blur(x)
        noisy = self._coin(cfg.noise_prob, n).view(n, 1, 1, 1)
        std = self._u(*cfg.noise_std, n).view(n, 1, 1, 1)
        x = x + noisy * std * torch.randn(x.shape, generator=self.gen)
        return self._jpeg(x.clamp(0, 255).round().to(torch.uint8))

    def _crop(self, x: torch.Tensor) -> torch.Tensor:
        """A square crop of `crop_scale` of the side, anywhere it fits, resized back (one grid_sample)."""
        n = len(x)
        on = self._coin(self.cfg.crop_prob, n)
        side = torch.where(on, self._u(*self.cfg.crop_scale, n), torch.ones(n))
        shift = (
            (1 - side) * (2 * torch.rand(n, generator=self.gen) - 1),
            (1 - side) * (2 * torch.rand(n, generator=self.gen) - 1),
        )
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0] = side
        theta[:, 1, 1] = side
        theta[:, 0, 2] = shift[0]
        theta[:, 1, 2] = shift[1]
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        """Gaussian blur of a random share of the batch, at a few sigma levels (one conv per level)."""
        chosen = self._coin(self.cfg.blur_prob, len(x)).nonzero().flatten()
        if len(chosen) == 0:
            return x
        lo, hi = self.cfg.blur_sigma
        level = torch.randint(0, BLUR_LEVELS, (len(chosen),), generator=self.gen)
        for k in range(BLUR_LEVELS):
            rows = chosen[level == k]
            if len(rows):
                sigma = lo + (hi - lo) * k / max(1, BLUR_LEVELS - 1)
                x[rows] = TF.gaussian_blur(x[rows], [5, 5], [sigma])
        return x

    def _jpeg(self, out: torch.Tensor) -> torch.Tensor:
        """JPEG re-encoding of a random share of the batch, at a few quality levels."""
        chosen = self._coin(self.cfg.jpeg_prob, len(out)).nonzero().flatten()
        lo, hi = self.cfg.jpeg_quality
        level = torch.randint(0, JPEG_LEVELS, (len(chosen),), generator=self.gen)
        for k in range(JPEG_LEVELS):
            rows = chosen[level == k].tolist()
            if rows:
                quality = int(lo + (hi - lo) * k / max(1, JPEG_LEVELS - 1))
                encoded = encode_jpeg([out[i].contiguous() for i in rows], quality=quality)
                out[rows] = torch.stack(decode_jpeg(encoded))
        return out

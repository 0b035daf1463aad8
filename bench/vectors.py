"""Clustered unit vectors with a low intrinsic dimension, like real image embeddings.

Uniform random vectors make every neighbour almost equally far, so recall on them says
nothing; here points lie near `clusters` centres, varying along a few directions each.
"""

from __future__ import annotations

import numpy as np


def clustered_vectors(
    n: int, dim: int = 512, clusters: int = 100, intrinsic: int = 16, noise: float = 0.05, seed: int = 0
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    bases = rng.standard_normal((clusters, intrinsic, dim)).astype(np.float32) / np.sqrt(intrinsic)
    labels = rng.integers(0, clusters, n)
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 65536):
        lab = labels[start : start + 65536]
        z = rng.standard_normal((len(lab), intrinsic)).astype(np.float32)
        x = centres[lab] + np.einsum("ni,nid->nd", z, bases[lab]) * 0.8
        x += noise * rng.standard_normal(x.shape).astype(np.float32) * np.sqrt(dim) / 8
        out[start : start + len(lab)] = x
    return out / np.linalg.norm(out, axis=1, keepdims=True)

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


def anchored_vectors(
    centres: np.ndarray, n: int, intrinsic: int = 16, spread: float = 0.35, noise: float = 0.05, seed: int = 0
) -> np.ndarray:
    """`n` unit vectors in clusters around the given unit `centres` (real embeddings, say), each
    cluster varying along `intrinsic` directions of its own: `spread` is the typical length of
    that variation and `noise` that of an isotropic rest, both relative to a centre's length 1."""
    rng = np.random.default_rng(seed)
    k, dim = centres.shape
    c = np.asarray(centres, np.float32) / np.linalg.norm(centres, axis=1, keepdims=True)
    bases = rng.standard_normal((k, intrinsic, dim)).astype(np.float32) / np.sqrt(dim)
    labels = rng.integers(0, k, n)
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 65536):
        lab = labels[start : start + 65536]
        z = rng.standard_normal((len(lab), intrinsic)).astype(np.float32) / np.sqrt(intrinsic)
        x = c[lab] + spread * np.einsum("ni,nid->nd", z, bases[lab]) * np.sqrt(intrinsic)
        x += noise * rng.standard_normal(x.shape).astype(np.float32)
        out[start : start + len(lab)] = x
    return out / np.linalg.norm(out, axis=1, keepdims=True)

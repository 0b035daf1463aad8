"""Reading embeddings computed elsewhere, in the two layouts an embeddings import takes.

- clip-retrieval's, as `clip inference` writes it: `img_emb/img_emb_{N}.npy` (float16 or float32,
  one row per image) beside `metadata/metadata_{N}.parquet` (the same rows, in order, with an image
  path or URL column and, from img2dataset, `width` and `height`);
- this project's own vector batches (`.npz` with `ids` and `vectors`, `shards.pack_vectors`), for
  images the catalog already holds: a collection's vectors copied from another deployment.

Both are read as chunks of rows, the `.npy` memory-mapped, so a part of any size costs one chunk
of memory. Rows are checked as they are read: finite, the expected dimension, normalised to unit
length (the index ranks by inner product); a row of zeros cannot be, and is rejected.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from services.common.shards import unpack_vectors

Layout = Literal["clip-retrieval", "vectors"]
PATH_COLUMNS = ("image_path", "url", "path", "filepath", "key")
_PART_RE = re.compile(r"img_emb_(\d+)\.npy$")


class LayoutError(ValueError):
    """The folder is not in a layout the import reads, or its parts disagree."""


@dataclass
class Chunk:
    """Rows of one part: vectors (unit, float32) and, per row, a reference or an image id."""

    part: int
    index: int  # chunk number within the part
    vectors: np.ndarray
    references: list[str] = field(default_factory=list)  # clip-retrieval: path or URL per row
    image_ids: list[str] = field(default_factory=list)  # vectors layout: catalogued ids per row
    widths: list[int] = field(default_factory=list)
    heights: list[int] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> rows left out of this chunk


def detect(root: Path) -> Layout:
    if (root / "img_emb").is_dir():
        return "clip-retrieval"
    if any(root.rglob("*.npz")):
        return "vectors"
    raise LayoutError(
        f"{root} holds neither img_emb/*.npy with metadata/*.parquet (clip-retrieval) nor .npz vector batches"
    )


def source_digest(root: Path, layout: Layout) -> str:
    """Names and sizes of the parts: the same folder gives the same batch keys on a rerun."""
    h = hashlib.sha256(layout.encode())
    for path in sorted(_part_files(root, layout)):
        h.update(f"{path.relative_to(root).as_posix()}\0{path.stat().st_size}\n".encode())
    return h.hexdigest()[:16]


def _part_files(root: Path, layout: Layout) -> list[Path]:
    if layout == "vectors":
        return sorted(root.rglob("*.npz"))
    return [path for _, npy, meta in clip_retrieval_parts(root) for path in (npy, meta)]


def unit_rows(
    vectors: np.ndarray, dim: int, wanted: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """float32 unit rows, the mask of the rows kept, and why the others were not.

    `wanted`: rows the caller can use at all (a row without a reference is `no_reference`)."""
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise LayoutError(f"vectors have shape {vectors.shape}, expected (n, {dim})")
    x = np.asarray(vectors, dtype=np.float32)
    finite = np.asarray(np.isfinite(x).all(axis=1))
    norms = np.linalg.norm(np.where(finite[:, None], x, 0.0), axis=1)
    nonzero = finite & (norms > 1e-6)
    keep = nonzero if wanted is None else nonzero & wanted
    rejected = {
        reason: int(mask.sum())
        for reason, mask in (
            ("no_reference", ~keep & nonzero),
            ("not_finite", ~finite),
            ("zero_vector", finite & ~nonzero),
        )
        if mask.any()
    }
    out = np.ascontiguousarray(x[keep] / norms[keep, None], dtype=np.float32)
    return out, keep, rejected


def clip_retrieval_parts(root: Path) -> list[tuple[int, Path, Path]]:
    parts = []
    for npy in sorted((root / "img_emb").glob("img_emb_*.npy")):
        match = _PART_RE.search(npy.name)
        if match is None:
            continue
        n = int(match.group(1))
        meta = root / "metadata" / f"metadata_{n}.parquet"
        if not meta.is_file():
            raise LayoutError(f"{npy.name} has no metadata/{meta.name} beside it")
        parts.append((n, npy, meta))
    if not parts:
        raise LayoutError(f"{root / 'img_emb'} holds no img_emb_N.npy")
    return sorted(parts)


def _path_column(names: list[str], wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in names:
            raise LayoutError(f"metadata has no column {wanted!r} (it has {', '.join(names)})")
        return wanted
    for name in PATH_COLUMNS:
        if name in names:
            return name
    raise LayoutError(f"metadata names no image (none of {', '.join(PATH_COLUMNS)} in {', '.join(names)})")


def read_clip_retrieval(
    root: Path, dim: int, chunk_rows: int, path_column: str | None = None
) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    for n, npy, meta in clip_retrieval_parts(root):
        vectors = np.load(npy, mmap_mode="r", allow_pickle=False)
        names = pq.read_schema(meta).names
        column = _path_column(names, path_column)
        wanted = [column, *(c for c in ("width", "height") if c in names)]
        table = pq.read_table(meta, columns=wanted)
        if table.num_rows != len(vectors):
            raise LayoutError(f"{npy.name} has {len(vectors)} rows but {meta.name} has {table.num_rows}")
        refs = table.column(column).to_pylist()
        widths = table.column("width").to_pylist() if "width" in names else None
        heights = table.column("height").to_pylist() if "height" in names else None
        for c, start in enumerate(range(0, len(vectors), chunk_rows)):
            stop = min(len(vectors), start + chunk_rows)
            named = np.fromiter((_reference(r) is not None for r in refs[start:stop]), bool, stop - start)
            x, keep, rejected = unit_rows(vectors[start:stop], dim, named)
            rows = [start + int(i) for i in np.flatnonzero(keep)]
            yield Chunk(
                part=n,
                index=c,
                vectors=x,
                references=[str(_reference(refs[r])) for r in rows],
                widths=[_size(widths[r]) if widths else 0 for r in rows],
                heights=[_size(heights[r]) if heights else 0 for r in rows],
                rejected=rejected,
            )


def _reference(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _size(value: object) -> int:
    if isinstance(value, int | float) and math.isfinite(value):
        return max(0, int(value))
    return 0


def read_vector_batches(root: Path, dim: int, chunk_rows: int) -> Iterator[Chunk]:
    for n, path in enumerate(sorted(root.rglob("*.npz"))):
        ids, vectors = unpack_vectors(path.read_bytes())
        for c, start in enumerate(range(0, len(ids), chunk_rows)):
            x, keep, rejected = unit_rows(vectors[start : start + chunk_rows], dim)
            kept = [ids[start + i] for i in np.flatnonzero(keep)]
            yield Chunk(part=n, index=c, vectors=x, image_ids=kept, rejected=rejected)

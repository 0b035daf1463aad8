"""Bulk embedding's vectors in clip-retrieval's layout, for other tools (autofaiss, clip-retrieval's
back end) and for `python -m services.indexer.bulk_import`: one part per partition,
`img_emb/img_emb_N.npy` (float16, as `clip inference` writes) and `metadata/metadata_N.parquet`
(`image_path`, `width`, `height`; row i is vector i). A part is written to a temporary name and
renamed, so a reader never sees half of one; a rerun writes the same part again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


class ClipRetrievalWriter:
    def __init__(self, folder: Path) -> None:
        self.emb, self.meta = folder / "img_emb", folder / "metadata"
        self.emb.mkdir(parents=True, exist_ok=True)
        self.meta.mkdir(parents=True, exist_ok=True)

    def write(self, part: int, refs: list[str], rows: list[dict[str, object]], vectors: np.ndarray) -> None:
        """Part `part`: `refs[i]` (its key or path) with `rows[i]`'s size is `vectors[i]`."""
        table = pa.table(
            {
                "image_path": refs,
                "width": [int(str(r["width"])) for r in rows],
                "height": [int(str(r["height"])) for r in rows],
            }
        )
        meta = self.meta / f"metadata_{part}.parquet"
        pq.write_table(table, meta.with_suffix(".tmp"))
        emb = self.emb / f"img_emb_{part}.npy"
        with open(emb.with_suffix(".tmp"), "wb") as fh:
            np.save(fh, vectors.astype(np.float16), allow_pickle=False)
        emb.with_suffix(".tmp").replace(emb)
        meta.with_suffix(".tmp").replace(meta)

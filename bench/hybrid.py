"""Dense, keyword and hybrid retrieval side by side on the ViShapes-vi text set, and the RRF defaults.

`python -m bench.hybrid` writes the text set (shapes with Vietnamese shop signs, and without;
`vi_clip_train.vishapes.text_set`) unless it is there, reads every picture with the indexer's
OCR (Tesseract `vie`), keeps the words in a real catalog (SQLite FTS5, the same
`Catalog.keyword_search` the gateway calls, any query word), embeds pictures and queries with
the checkpoint, and ranks every query three ways with the gateway's fusion
(`services.common.hybrid.fuse`). A query's right answers are every picture its ground truth
names (the sign's text, the first object's shape and colour, or both): R@k is the share of
queries with one in the top k. It also ranks the ViShapes-vi shapes test split (no words in its
pictures) both ways, since hybrid must not cost shape queries, and sweeps RRF's k and the keyword
weight to show the defaults. Prints a table and one JSON line; `--json-out` keeps it, `--write
README.md` puts the table in the README.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deploy.readme_section import MarkedSection
from imaging.decoding import decode_image
from imaging.ocr import ocr_image
from services.common.catalog import Catalog, open_catalog
from services.common.hybrid import DEFAULT_KEYWORD_WEIGHT, DEFAULT_RRF_K, KEYWORD_DEPTH, fuse, informative
from services.common.settings import CatalogSettings
from services.common.storage.local import LocalObjectStore
from vi_clip import DualEncoder, create_model
from vi_clip_train.data import ImageRecord, load_records, preload_images
from vi_clip_train.embed import embed_images, embed_texts
from vi_clip_train.vishapes.text_set import write_set

REPO = Path(__file__).resolve().parents[1]
SECTION = MarkedSection("<!-- hybrid-eval:start -->", "<!-- hybrid-eval:end -->")


def _catalog(folder: Path) -> Catalog:
    return open_catalog(CatalogSettings(url=f"sqlite:///{folder / 'catalog.db'}"), LocalObjectStore(folder))


def _index(catalog: Catalog, images: list[Path], read: bool) -> tuple[list[str], dict[str, float]]:
    """Store every picture (filenames as the gateway keeps them) and, with `read`, OCR it."""
    cid = catalog.create_collection("Chữ và hình").id
    ids = []
    ocr_s = 0.0
    for path in images:
        data = path.read_bytes()
        record, _ = catalog.store_image(cid, path.name, data)
        ids.append(record.image_id)
        if read:
            start = time.perf_counter()
            catalog.set_image_text(record.image_id, ocr_image(decode_image(data)))
            ocr_s += time.perf_counter() - start
    return ids, {"ocr_s": round(ocr_s, 1)}


def _rankings(
    catalog: Catalog, ids: list[str], sim: torch.Tensor, queries: list[str]
) -> tuple[list[list[str]], list[list[str]]]:
    dense = [[ids[i] for i in row] for row in torch.argsort(-sim, dim=1).tolist()]
    words = []
    for q in queries:
        hits = catalog.keyword_search(q, None, KEYWORD_DEPTH, "any")
        words.append([h.image_id for h in hits[: informative([h.score for h in hits])]])
    return dense, words


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _embed(model: DualEncoder, records: list[ImageRecord]) -> torch.Tensor:
    pixels = preload_images(records, model.image_size, transform=model.image_transform.to_uint8)
    return embed_images(model, pixels)


def _recall(ranked: list[list[str]], relevant: list[set[str]], k: int) -> float:
    return float(np.mean([bool(set(r[:k]) & rel) for r, rel in zip(ranked, relevant, strict=True)]))


def _fused(dense: list[list[str]], words: list[list[str]], k: int, weight: float) -> list[list[str]]:
    return [[i for i, _ in fuse([d, w], [1.0, weight], k)] for d, w in zip(dense, words, strict=True)]


def text_set(checkpoint: str, folder: Path, work: Path) -> dict[str, Any]:
    if not (folder / "captions.jsonl").is_file():
        write_set(folder, 200, 0)
    rows = [json.loads(line) for line in (folder / "scenes.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = [
        json.loads(line) for line in (folder / "captions.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    paths = [folder / r["image"] for r in rows]
    catalog = _catalog(work / "text")
    ids, cost = _index(catalog, paths, read=True)
    by_name = {r["image"]: iid for r, iid in zip(rows, ids, strict=True)}
    model = create_model(checkpoint)
    records = [ImageRecord(path=p) for p in paths]
    with torch.no_grad():
        images = embed_images(
            model, preload_images(records, model.image_size, transform=model.image_transform.to_uint8)
        )
        texts = embed_texts(model, [q["query"] for q in queries])
    dense, words = _rankings(catalog, ids, texts @ images.T, [q["query"] for q in queries])
    relevant = [{by_name[i] for i in q["images"]} for q in queries]
    hybrid = _fused(dense, words, DEFAULT_RRF_K, DEFAULT_KEYWORD_WEIGHT)
    out: dict[str, Any] = {"queries": len(queries), "images": len(ids), **cost}
    for name, ranked in (("dense", dense), ("keyword", words), ("hybrid", hybrid)):
        for k in (1, 10):
            out[f"{name}_r{k}"] = round(_recall(ranked, relevant, k), 3)
        for need in ("text", "shape", "both"):
            pick = [i for i, q in enumerate(queries) if q["needs"] == need]
            out[f"{name}_r1_{need}"] = round(
                _recall([ranked[i] for i in pick], [relevant[i] for i in pick], 1), 3
            )
    sweep = {}
    for k in (10, 30, 60, 100):
        for weight in (0.5, 1.0, 2.0):
            sweep[f"k={k},w={weight}"] = round(_recall(_fused(dense, words, k, weight), relevant, 1), 3)
    out["sweep_r1"] = sweep
    return out


def shapes(checkpoint: str, data: Path, work: Path, limit: int) -> dict[str, Any]:
    """Full-caption text→image R@1 on the shapes test split, dense and hybrid (its pictures hold no
    words, so the keyword side sees only filenames)."""
    records = load_records(data, None)[:limit]
    catalog = _catalog(work / "shapes")
    ids, _ = _index(catalog, [r.path for r in records], read=False)
    model = create_model(checkpoint)
    texts = [r.captions[0] for r in records]
    with torch.no_grad():
        images = embed_images(
            model, preload_images(records, model.image_size, transform=model.image_transform.to_uint8)
        )
        q = embed_texts(model, texts)
    dense, words = _rankings(catalog, ids, q @ images.T, texts)
    keys = [r.key for r in records]
    relevant = [{ids[j] for j, key in enumerate(keys) if key == keys[i]} for i in range(len(records))]
    hybrid = _fused(dense, words, DEFAULT_RRF_K, DEFAULT_KEYWORD_WEIGHT)
    return {
        "shapes_queries": len(texts),
        "shapes_dense_r1": round(_recall(dense, relevant, 1), 3),
        "shapes_hybrid_r1": round(_recall(hybrid, relevant, 1), 3),
    }


COLUMNS = ("r1", "r10", "r1_text", "r1_shape", "r1_both")


def table(result: dict[str, Any]) -> str:
    lines = [
        f"ViShapes-vi text set: {result['queries']} queries over {result['images']} pictures "
        f"(OCR {result['ocr_s']} s); R@1 by what the query needs",
        "",
        "| ranking | R@1 | R@10 | needs text | needs shape | needs both |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in ("dense", "keyword", "hybrid"):
        lines.append(
            f"| {name} | "
            + " | ".join(
                f"{result[f'{name}_{m}']:.3f}" for m in ("r1", "r10", "r1_text", "r1_shape", "r1_both")
            )
            + " |"
        )
    lines += [
        "",
        f"Shapes test split, full captions ({result['shapes_queries']} queries): dense R@1 "
        f"{result['shapes_dense_r1']:.3f}, hybrid R@1 {result['shapes_hybrid_r1']:.3f}. "
        f"Defaults k={DEFAULT_RRF_K}, keyword weight {DEFAULT_KEYWORD_WEIGHT}; R@1 by k and weight: "
        + ", ".join(f"{k} {v:.3f}" for k, v in result["sweep_r1"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(REPO / "checkpoints" / "vi-tiny-vishapes"))
    parser.add_argument("--text-set", type=Path, default=REPO / "data" / "vishapes-text")
    parser.add_argument(
        "--shapes", type=Path, default=REPO / "data" / "vishapes-vi" / "test" / "captions.jsonl"
    )
    parser.add_argument("--shapes-limit", type=int, default=1000)
    parser.add_argument("--json-out", type=Path, default=None)
    SECTION.add_arguments(parser, "hybrid evaluation tables")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "text").mkdir()
        (work / "shapes").mkdir()
        result = {
            **text_set(args.checkpoint, args.text_set, work),
            **shapes(args.checkpoint, args.shapes, work, args.shapes_limit),
        }
    body = table(result) + "\n"
    SECTION.run(args, body, "the hybrid evaluation tables are stale: run `make eval-demo`")
    if args.write or args.check:
        sys.stdout.write(body)
    if args.json_out:
        args.json_out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()

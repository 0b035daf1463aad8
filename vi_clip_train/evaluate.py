"""`python -m vi_clip_train.evaluate --checkpoint DIR --data CAPTIONS`: retrieval metrics of a model.

Prints a Markdown table, then (last line) one JSON object: t2i/i2t R@1/5/10, median rank, mAP, and
the text-to-image figures again with every diacritic stripped from the queries.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from vi_clip import create_model
from vi_clip.text import strip_diacritics

from .data import load_records, preload_images
from .embed import embed_images, embed_texts
from .faiss_table import faiss_method_table
from .metrics import retrieval_metrics


def evaluate(
    checkpoint: str, data: Path, image_root: Path | None, device: str = "cpu", with_faiss: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    model = create_model(checkpoint, device=device)
    records = load_records(data, image_root)
    texts = [c for r in records for c in r.captions]
    text_keys = [r.key for r in records for _ in r.captions]
    image_keys = [r.key for r in records]
    start = time.perf_counter()
    pixels = preload_images(records, model.image_size, transform=model.image_transform.to_uint8)
    images = embed_images(model, pixels)
    queries = embed_texts(model, texts)
    plain = embed_texts(model, [strip_diacritics(t) for t in texts])
    metrics: dict[str, Any] = retrieval_metrics(images, queries, image_keys, text_keys)
    bare = retrieval_metrics(images, plain, image_keys, text_keys)
    metrics.update({f"{k}_no_diacritics": v for k, v in bare.items() if k.startswith("t2i_")})
    metrics = {k: round(v, 4) for k, v in metrics.items()}
    metrics.update(
        model=model.name,
        version=model.version,
        gallery=len(records),
        queries=len(texts),
        seconds=round(time.perf_counter() - start, 1),
    )
    table: list[dict[str, Any]] = []
    if with_faiss:
        ids = {k: i for i, k in enumerate(dict.fromkeys(image_keys))}
        relevant = (
            torch.tensor([ids[k] for k in text_keys])[:, None]
            == torch.tensor([ids[k] for k in image_keys])[None, :]
        ).numpy()
        table = faiss_method_table(images.numpy(), queries.numpy(), relevant)
    return metrics, table


def markdown(metrics: dict[str, Any], faiss_rows: list[dict[str, Any]]) -> str:
    lines = ["| direction | R@1 | R@5 | R@10 | median rank | mAP |", "| --- | --- | --- | --- | --- | --- |"]
    for label, p in (
        ("text → image", "t2i_"),
        ("image → text", "i2t_"),
        ("text → image, no diacritics", "t2i_"),
    ):
        s = "_no_diacritics" if "no diacritics" in label else ""
        vals = [metrics[f"{p}{m}{s}"] for m in ("r1", "r5", "r10", "median_rank", "map")]
        lines.append(f"| {label} | " + " | ".join(f"{v:g}" for v in vals) + " |")
    if faiss_rows:
        cols = list(faiss_rows[0])
        lines += ["", "| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
        lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in faiss_rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="checkpoint directory or registered model name")
    p.add_argument("--data", type=Path, required=True, help=".json (COCO-style), .jsonl or .csv")
    p.add_argument("--image-root", type=Path, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--faiss", action="store_true", help="add the FAISS method table")
    p.add_argument("--json-out", type=Path, default=None)
    a = p.parse_args(argv)
    metrics, rows = evaluate(a.checkpoint, a.data, a.image_root, a.device, a.faiss)
    if a.json_out:
        a.json_out.write_text(
            json.dumps({"metrics": metrics, "faiss": rows}, indent=2) + "\n", encoding="utf-8"
        )
    print(markdown(metrics, rows))
    print(json.dumps(metrics, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""`python -m vi_clip_train.evaluate --checkpoint DIR --data CAPTIONS`: retrieval metrics of a model.

Prints Markdown tables, then (last line) one JSON object: t2i/i2t R@1/5/10, median rank, mAP, and
the text-to-image figures again with every diacritic stripped from the queries. On ViShapes-vi
(captions with scenes) it adds the short-query suites, each also without diacritics: attribute
queries (`attr_p1`, `attr_p10`, `attr_map`), exact counts (`count_p1`), positions (`position_p1`);
`--shifted-data` adds the split drawn by the evaluation-only renderer (`shifted_t2i_r1`, `_r5`);
a calibrated checkpoint adds `ood_rejected` (share of queries about things absent from the world
whose best score is under the threshold) and `in_domain_kept` (share of in-domain queries whose
right top result is at or above it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from vi_clip import DualEncoder, create_model
from vi_clip.text import strip_diacritics

from .data import ImageRecord, load_records, preload_images
from .embed import embed_images, embed_texts
from .faiss_table import faiss_method_table
from .metrics import precision_metrics, retrieval_metrics, top_scores
from .vishapes.ood import ood_queries
from .vishapes.suites import SUITES, build_suite

README_START = "<!-- eval-demo:start -->"
README_END = "<!-- eval-demo:end -->"
SUITE_PREFIX = {"attribute": "attr", "count": "count", "position": "position"}


def _both(model: DualEncoder, texts: list[str]) -> dict[str, torch.Tensor]:
    return {
        "": embed_texts(model, texts),
        "_no_diacritics": embed_texts(model, [strip_diacritics(t) for t in texts]),
    }


def suite_metrics(
    model: DualEncoder, images: torch.Tensor, records: list[ImageRecord]
) -> tuple[dict[str, float], list[tuple[torch.Tensor, torch.Tensor]]]:
    """The short-query suites over the gallery; also each suite's (best score, top is right)."""
    scenes = [r.scene for r in records if r.scene is not None]
    out: dict[str, float] = {}
    tops = []
    for kind in SUITES:
        texts, _, rel = build_suite(kind, scenes)
        if not texts:  # a gallery too small to hold enough answers for this suite
            continue
        relevant = torch.from_numpy(rel)
        for suffix, q in _both(model, texts).items():
            sim = q @ images.T
            m = precision_metrics(sim, relevant)
            name = SUITE_PREFIX[kind]
            keys = ("p1", "p10", "map") if kind == "attribute" else ("p1",)
            out.update({f"{name}_{k}{suffix}": m[k] for k in keys})
            tops.append(top_scores(sim, relevant))
        out[f"{SUITE_PREFIX[kind]}_queries"] = len(texts)
    return out, tops


def shifted_metrics(model: DualEncoder, data: Path, image_root: Path | None) -> dict[str, float]:
    records = load_records(data, image_root)
    images = embed_images(
        model, preload_images(records, model.image_size, transform=model.image_transform.to_uint8)
    )
    texts = [c for r in records for c in r.captions]
    keys = [r.key for r in records for _ in r.captions]
    out: dict[str, float] = {}
    for suffix, q in _both(model, texts).items():
        m = retrieval_metrics(images, q, [r.key for r in records], keys)
        out.update({f"shifted_t2i_{k}{suffix}": m[f"t2i_{k}"] for k in ("r1", "r5", "r10")})
    return out


def relevance_metrics(
    model: DualEncoder, images: torch.Tensor, tops: list[tuple[torch.Tensor, torch.Tensor]]
) -> dict[str, float | None]:
    """Against the checkpoint's threshold: no-match queries rejected, right answers kept."""
    threshold = model.relevance_threshold
    if threshold is None:
        return {"ood_rejected": None, "in_domain_kept": None, "threshold": None}
    out: dict[str, float | None] = {"threshold": threshold}
    ood = ood_queries("eval")
    for suffix, q in _both(model, ood).items():
        out[f"ood_rejected{suffix}"] = float(((q @ images.T).max(dim=1).values < threshold).float().mean())
    right = torch.cat([best[ok] for best, ok in tops])
    out["in_domain_kept"] = float((right >= threshold).float().mean())
    out["ood_queries"] = len(ood)
    return out


def evaluate(
    checkpoint: str,
    data: Path,
    image_root: Path | None,
    device: str = "cpu",
    with_faiss: bool = False,
    shifted: Path | None = None,
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
    sim = queries @ images.T
    ids = {k: i for i, k in enumerate(dict.fromkeys(image_keys))}
    relevant = (
        torch.tensor([ids[k] for k in text_keys])[:, None]
        == torch.tensor([ids[k] for k in image_keys])[None, :]
    )
    tops = [top_scores(sim, relevant)]
    if all(r.scene is not None for r in records):
        suites, suite_tops = suite_metrics(model, images, records)
        metrics.update(suites)
        tops += suite_tops[::2]  # accented queries only
    if shifted is not None:
        metrics.update(shifted_metrics(model, shifted, image_root))
    metrics.update(relevance_metrics(model, images, tops))
    metrics = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()}
    metrics.update(
        model=model.name,
        version=model.version,
        gallery=len(records),
        queries=len(texts),
        seconds=round(time.perf_counter() - start, 1),
    )
    table: list[dict[str, Any]] = []
    if with_faiss:
        table = faiss_method_table(images.numpy(), queries.numpy(), relevant.numpy())
    return metrics, table


def markdown(metrics: dict[str, Any], faiss_rows: list[dict[str, Any]]) -> str:
    lines = [
        "| full captions | R@1 | R@5 | R@10 | median rank | mAP |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, p in (
        ("text → image", "t2i_"),
        ("image → text", "i2t_"),
        ("text → image, no diacritics", "t2i_"),
    ):
        s = "_no_diacritics" if "no diacritics" in label else ""
        vals = [metrics[f"{p}{m}{s}"] for m in ("r1", "r5", "r10", "median_rank", "map")]
        lines.append(f"| {label} | " + " | ".join(f"{v:g}" for v in vals) + " |")
    lines += _short_query_table(metrics)
    if faiss_rows:
        cols = list(faiss_rows[0])
        lines += ["", "| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
        lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in faiss_rows]
    return "\n".join(lines)


def _short_query_table(m: dict[str, Any]) -> list[str]:
    rows = [
        ('attribute queries ("ngôi sao màu vàng")', "precision@1", "attr_p1"),
        ("attribute queries", "precision@10", "attr_p10"),
        ('count queries ("hai ngôi sao màu vàng")', "precision@1", "count_p1"),
        ('position queries ("… ở bên trái")', "precision@1", "position_p1"),
        ("shifted renderer, full captions", "R@1", "shifted_t2i_r1"),
        ("shifted renderer, full captions", "R@5", "shifted_t2i_r5"),
    ]
    present = [r for r in rows if r[2] in m]
    out = []
    if present:
        out += [
            "",
            "| short queries and new pictures | metric | accented | no diacritics |",
            "| --- | --- | --- | --- |",
        ]
        out += [
            f"| {label} | {metric} | {m[k]:g} | {m[k + '_no_diacritics']:g} |" for label, metric, k in present
        ]
    if m.get("threshold") is not None:
        out += [
            "",
            "| relevance threshold | value |",
            "| --- | --- |",
            f"| threshold (cosine, from validation) | {m['threshold']:g} |",
            f"| out-of-domain queries rejected | {m['ood_rejected']:g} |",
            f"| out-of-domain queries rejected, no diacritics | {m['ood_rejected_no_diacritics']:g} |",
            f"| in-domain right answers kept | {m['in_domain_kept']:g} |",
        ]
    return out


def readme_block(metrics: dict[str, Any], faiss_rows: list[dict[str, Any]]) -> str:
    """The README's evaluation tables: generated from a result file, never typed in."""
    return f"{README_START}\n{markdown(metrics, faiss_rows)}\n{README_END}"


def write_readme(readme: Path, metrics: dict[str, Any], faiss_rows: list[dict[str, Any]]) -> None:
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    readme.write_text(text[:start] + readme_block(metrics, faiss_rows) + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="checkpoint directory or registered model name")
    p.add_argument("--data", type=Path, required=True, help=".json (COCO-style), .jsonl or .csv")
    p.add_argument("--image-root", type=Path, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--faiss", action="store_true", help="add the FAISS method table")
    p.add_argument(
        "--shifted-data", type=Path, default=None, help="ViShapes-vi split of the shifted renderer"
    )
    p.add_argument("--json-out", type=Path, default=None)
    p.add_argument("--readme", type=Path, default=None, help="replace the README's eval-demo tables")
    a = p.parse_args(argv)
    metrics, rows = evaluate(a.checkpoint, a.data, a.image_root, a.device, a.faiss, a.shifted_data)
    if a.json_out:
        a.json_out.write_text(
            json.dumps({"metrics": metrics, "faiss": rows}, indent=2) + "\n", encoding="utf-8"
        )
    if a.readme:
        write_readme(a.readme, metrics, rows)
    print(markdown(metrics, rows))
    print(json.dumps(metrics, ensure_ascii=False))


if __name__ == "__main__":
    main()

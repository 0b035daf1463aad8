"""The "Choose a model" table: each backend's embedding size and CPU speed, measured here.

    python -m bench.models_bench                 # every family at its real size, random weights
    python -m bench.models_bench --large         # also XLM-R-Large + ViT-H-14 (about 5 GB of RAM)

No weights can be downloaded here, so every model is built at its real architecture size with random
weights (speed does not depend on weight values); the quality column is cited from Immich's
measurements on Vietnamese Crossmodal-3600, not measured. Text speed uses a local byte-level
tokenizer in place of the hub one: OpenCLIP and SigLIP pad every text to a fixed length, so the
text tower does the same work either way.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from bench.timing import median_s
from deploy.harness.backends import tiny_tokenizer_dir
from vi_clip import DualEncoder, create_model

QUERIES = ["một con mèo đen nằm trên ghế", "hai người đàn ông đang chơi quần vợt trên sân"] * 16
XLMR = {"base": (768, 12, 12, 3072), "large": (1024, 24, 16, 4096)}
SPECIAL: dict[str, Any] = {"pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}
# Immich's published mean recall on Vietnamese Crossmodal-3600 (cited; no weights can be fetched here).
CITED = {
    "openclip-xlm-roberta-base-vit-b-32": "75% (Immich)",
    "openclip-vit-b-16-siglip2-256": "80–86% (Immich, SigLIP2 family)",
}
GOOD_FOR = {
    "vi-tiny": "offline demo, tests; trained on synthetic shapes only",
    "vi-swin-b-phobert-base": "the seed's checkpoints (import) and fine-tuning on UIT-ViIC/KTVIC",
    "openclip-xlm-roberta-base-vit-b-32": "real photos + Vietnamese on day one, cheapest multilingual",
    "openclip-xlm-roberta-large-vit-h-14": "best XLM-R quality, GPU only",
    "openclip-vit-b-16-siglip2-256": "highest cited Vietnamese recall here; a GPU for big libraries",
    "siglip-base-patch16-256-multilingual": "multilingual SigLIP through transformers; fine-tuning",
}


def xlmr_dir(root: Path, size: str) -> Path:
    """A local XLM-R config of the real size (250 002-token vocabulary) beside a local tokenizer."""
    from transformers import XLMRobertaConfig

    hidden, layers, heads, ffn = XLMR[size]
    directory = tiny_tokenizer_dir(root / f"xlmr-{size}")
    XLMRobertaConfig(
        vocab_size=250002, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=ffn, max_position_embeddings=514, type_vocab_size=1, **SPECIAL,
    ).save_pretrained(str(directory))  # fmt: skip
    return directory


def build(name: str, root: Path) -> DualEncoder:
    import open_clip

    if name.startswith("vi-"):
        text = {"pretrained": False, "tokenizer": "bytelevel", "segment": "none"}
        return create_model(name, image={"pretrained": False}, text=text)
    if name == "siglip-base-patch16-256-multilingual":
        from transformers import AutoTokenizer

        tok_dir = tiny_tokenizer_dir(root / "tok")
        text = {"vocab_size": 250000, "max_position_embeddings": 64, **SPECIAL}
        vision = {"image_size": 256, "patch_size": 16}
        siglip = {"model_type": "siglip", "text_config": text, "vision_config": vision}
        return create_model(name, arch=siglip, tokenizer=AutoTokenizer.from_pretrained(str(tok_dir)))
    from vi_clip import get_model_config

    arch: Any = open_clip.get_model_config(get_model_config(name)["model"])
    text_cfg = arch["text_cfg"]
    if "hf_model_name" in text_cfg:
        size = "large" if "large" in text_cfg["hf_model_name"] else "base"
        text_cfg["hf_model_name"] = text_cfg["hf_tokenizer_name"] = str(xlmr_dir(root, size))
    elif "hf_tokenizer_name" in text_cfg:
        text_cfg["hf_tokenizer_name"] = str(tiny_tokenizer_dir(root / "tok"))
    return create_model(name, arch=arch, pretrained=None)


def rate(fn: Any, items: int, seconds: float) -> float:
    """Median items/s over repeats filling `seconds`, after one warm-up call."""
    return items / median_s(fn, 3, min_s=seconds)


def measure(name: str, root: Path, seconds: float, image_batch: int) -> dict[str, Any]:
    start = time.perf_counter()
    model = build(name, root)
    built = time.perf_counter() - start
    pixels = torch.randn(image_batch, 3, model.image_size, model.image_size)
    row = {
        "model": name,
        "backend": model.backend,
        "dim": model.embed_dim,
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "texts_s": rate(lambda: model.encode_text(QUERIES), len(QUERIES), seconds),
        "images_s": rate(lambda: model.encode_image(pixels), image_batch, seconds),
        "build_s": built,
    }
    return row


def table(rows: list[dict[str, Any]], threads: int) -> str:
    lines = [
        f"CPU, {threads} threads, fp32, random weights at real size; texts: batch {len(QUERIES)}; "
        "quality cited, not measured here. Our own towers tokenise with a bare byte-level BPE here",
        "(longer sequences than PhoBERT's vocabulary gives), so their texts/s is a lower bound.",
        "",
        "| model | backend | embedding | params | texts/s | images/s | Vietnamese XM3600 recall | good for |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| `{r['model']}` | {r['backend']} | {r['dim']} | {r['params_m']:.0f}M | {r['texts_s']:.1f} | "
            f"{r['images_s']:.2f} | {CITED.get(r['model'], '—')} | {GOOD_FOR.get(r['model'], '')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(m for m in GOOD_FOR if "vit-h-14" not in m))
    p.add_argument("--large", action="store_true", help="add openclip-xlm-roberta-large-vit-h-14")
    p.add_argument("--seconds", type=float, default=4.0, help="timing window per measurement")
    p.add_argument("--image-batch", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    names = a.models.split(",") + (["openclip-xlm-roberta-large-vit-h-14"] if a.large else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp, torch.inference_mode():
        for name in names:
            rows.append(measure(name, Path(tmp), a.seconds, a.image_batch))
            r = rows[-1]
            print(
                f"{name}: {r['texts_s']:.1f} texts/s, {r['images_s']:.2f} images/s, "
                f"built in {r['build_s']:.0f}s",
                flush=True,
            )
    print(table(rows, a.threads))


if __name__ == "__main__":
    main()

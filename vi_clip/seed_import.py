"""`python -m vi_clip.seed_import`: turn one of the seed project's published `.pt` files into our
checkpoint format, refusing a file whose tensors do not all land, shaped right, in our model.

The seed's layout: `image_encoder.model` (timm, `num_classes=0, global_pool="avg"`), `text_encoder.model`
(PhoBERT, first token's hidden state), `image_projection`/`text_projection` (our `ProjectionHead`),
224x224 ImageNet-normalised images, PhoBERT's tokenizer without word segmentation, temperature 1.0.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig

from .config import ImageTowerConfig, TextTowerConfig, ViClipConfig
from .encoder import save_checkpoint
from .model import ViClip
from .tokenizer import TextPipeline, load_tokenizer

TEXT_PREFIX = "text_encoder.model."
# Buffers older transformers versions saved and newer ones rebuild: checked, then dropped.
DERIVED_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")


def text_config(state: dict[str, torch.Tensor], tokenizer_dir: str) -> dict[str, Any]:
    """PhoBERT's config: the tokenizer directory's config.json when there is one, else read off the
    tensor shapes (attention heads of 64 dimensions, as every RoBERTa/PhoBERT size has)."""
    if (Path(tokenizer_dir) / "config.json").is_file():
        cfg = AutoConfig.from_pretrained(tokenizer_dir).to_dict()
        keep = {k: v for k, v in cfg.items() if not k.startswith("_") and k not in ("architectures",)}
        return {**keep, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}
    words = state[TEXT_PREFIX + "embeddings.word_embeddings.weight"]
    layers = {k.split(".")[4] for k in state if k.startswith(TEXT_PREFIX + "encoder.layer.")}
    hidden = int(words.shape[1])
    return {
        "model_type": "roberta",
        "vocab_size": int(words.shape[0]),
        "hidden_size": hidden,
        "num_hidden_layers": len(layers),
        "num_attention_heads": hidden // 64,
        "intermediate_size": int(state[TEXT_PREFIX + "encoder.layer.0.intermediate.dense.weight"].shape[0]),
        "max_position_embeddings": int(state[TEXT_PREFIX + "embeddings.position_embeddings.weight"].shape[0]),
        "type_vocab_size": int(state[TEXT_PREFIX + "embeddings.token_type_embeddings.weight"].shape[0]),
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "layer_norm_eps": 1e-05,
    }


def seed_config(
    state: dict[str, torch.Tensor],
    arch: str,
    tokenizer_dir: str,
    name: str,
    max_length: int,
    timm_kwargs: dict[str, Any] | None = None,
) -> ViClipConfig:
    embed_dim = int(state["image_projection.projection.weight"].shape[0])
    return ViClipConfig(
        name=name,
        image=ImageTowerConfig(timm_model=arch, image_size=224, pool="avg", timm_kwargs=timm_kwargs or {}),
        text=TextTowerConfig(
            hf_config=text_config(state, tokenizer_dir),
            tokenizer=tokenizer_dir,
            segment="none",
            max_length=max_length,
            pool="cls",
        ),
        embed_dim=embed_dim,
        head_dropout=0.1,
        logit_scale_init=0.0,  # temperature 1.0, as the seed trained with
        learn_logit_scale=False,
    )


def check_and_load(model: ViClip, state: dict[str, torch.Tensor]) -> None:
    """Every seed tensor used, every model tensor given, every shape equal; else one error naming all."""
    state = dict(state)
    ours = model.state_dict()
    for suffix in DERIVED_BUFFERS:
        key = TEXT_PREFIX + suffix
        if key in state and key not in ours:
            expected = torch.arange(state[key].shape[-1]) if suffix.endswith("position_ids") else 0
            if not torch.equal(state[key].flatten(), torch.zeros_like(state[key].flatten()) + expected):
                raise ValueError(f"{key} holds unexpected values")
            del state[key]
    state["logit_scale"] = ours["logit_scale"]  # the seed's temperature is fixed, not a tensor
    unexpected = sorted(set(state) - set(ours))
    missing = sorted(set(ours) - set(state))
    shapes = [
        f"{k}: file {tuple(v.shape)} vs model {tuple(ours[k].shape)}"
        for k, v in state.items()
        if k in ours and v.shape != ours[k].shape
    ]
    if unexpected or missing or shapes:
        raise ValueError(
            f"seed checkpoint does not match {model.config.image.timm_model} + PhoBERT: "
            f"unused tensors {unexpected}, missing tensors {missing}, wrong shapes {shapes}"
        )
    model.load_state_dict(state, strict=True)


def import_seed(
    path: Path,
    arch: str,
    tokenizer_dir: str,
    out: Path,
    name: str | None = None,
    max_length: int = 128,
    timm_kwargs: dict[str, Any] | None = None,
) -> ViClip:
    """Read the seed's `.pt`, build the matching model, load it strictly and save it as a checkpoint."""
    state: dict[str, torch.Tensor] = torch.load(path, map_location="cpu", weights_only=True)
    cfg = seed_config(state, arch, tokenizer_dir, name or path.stem, max_length, timm_kwargs)
    tokenizer = load_tokenizer(tokenizer_dir)
    model = ViClip(cfg, TextPipeline(tokenizer, cfg.text.segment, cfg.text.max_length))
    check_and_load(model, state)
    save_checkpoint(model.eval(), out, {"imported_from": path.name, "arch": arch})
    return model


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--in", dest="source", type=Path, required=True, help="the seed's .pt state_dict")
    p.add_argument(
        "--arch", required=True, help="timm name, e.g. swin_base_patch4_window7_224, efficientnet_b0"
    )
    p.add_argument("--tokenizer", required=True, help="PhoBERT tokenizer: local directory or hub name")
    p.add_argument("--out", type=Path, required=True, help="checkpoint directory to write")
    p.add_argument("--name", default=None, help="model name (default: the file's stem)")
    p.add_argument("--max-length", type=int, default=128, help="longest caption in tokens")
    p.add_argument(
        "--timm-kwargs", type=json.loads, default={}, help="JSON for timm.create_model (resized towers)"
    )
    a = p.parse_args(argv)
    model = import_seed(a.source, a.arch, a.tokenizer, a.out, a.name, a.max_length, a.timm_kwargs)
    print(
        f"{a.out}: {model.name} version {model.version}, {sum(t.numel() for t in model.parameters())} params"
    )


if __name__ == "__main__":
    main()

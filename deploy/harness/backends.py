"""Tiny random-weight models of every pretrained backend family, built offline from local configs.

Each family shrinks a registered entry (same backend, same code path) to towers that build in well
under a second; the tokenizer is a byte-level BPE trained here, saved where the configs point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CORPUS = [
    "một con mèo đen nằm trên ghế",
    "hình tròn màu đỏ ở góc trên bên trái",
    "Hà Nội mùa thu, lá vàng rơi trên phố",
    "hai người đàn ông đang chơi quần vợt",
    "chiếc xe máy màu xanh đậu trước cửa hàng",
]
EMBED_DIM = 24
IMAGE_SIZE = 32
CONTEXT = 32
SPECIAL: dict[str, Any] = {"pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}
TINY_BERT: dict[str, Any] = {
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
}

# family -> the registered entry it shrinks
FAMILIES: dict[str, str] = {
    "openclip-xlmr": "openclip-xlm-roberta-base-vit-b-32",
    "openclip-clip": "openclip-xlm-roberta-base-vit-b-32",
    "hf-clip": "siglip-base-patch16-256-multilingual",
    "hf-siglip": "siglip-base-patch16-256-multilingual",
}


def tiny_tokenizer_dir(directory: Path) -> Path:
    """A byte-level BPE on a few Vietnamese captions, saved with a tiny XLM-R config beside it (what
    OpenCLIP's HF text tower reads to build itself)."""
    from transformers import XLMRobertaConfig

    from vi_clip.tokenizer import train_bytelevel_tokenizer

    if not (directory / "tokenizer.json").is_file():
        tok = train_bytelevel_tokenizer(CORPUS, vocab_size=320)
        tok.save_pretrained(str(directory))
        XLMRobertaConfig(
            vocab_size=len(tok),
            max_position_embeddings=CONTEXT + 2,
            type_vocab_size=1,
            **TINY_BERT,
            **SPECIAL,
        ).save_pretrained(str(directory))
    return directory


def _vision_cfg() -> dict[str, Any]:
    return {"image_size": IMAGE_SIZE, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16}


def _hf_vision() -> dict[str, Any]:
    return {"image_size": IMAGE_SIZE, "patch_size": 16, "num_channels": 3, **TINY_BERT}


def tiny_backend(family: str, tokenizer_dir: Path, **kwargs: Any) -> Any:
    """`create_model` of a registered entry of `family`, shrunk; kwargs go to `create_model`."""
    from transformers import AutoTokenizer

    import vi_clip

    tiny_tokenizer_dir(tokenizer_dir)
    name = FAMILIES[family]
    image = {"image_size": IMAGE_SIZE}
    if family.startswith("openclip"):
        text: dict[str, Any] = {"context_length": CONTEXT}
        if family == "openclip-xlmr":
            text.update(hf_model_name=str(tokenizer_dir), hf_tokenizer_name=str(tokenizer_dir))
            text.update(hf_pooler_type="mean_pooler", hf_proj_type="linear")
        else:
            text.update(vocab_size=49408, width=32, heads=2, layers=1)
        oc_arch = {"embed_dim": EMBED_DIM, "vision_cfg": _vision_cfg(), "text_cfg": text}
        return vi_clip.create_model(name, arch=oc_arch, pretrained=None, image=image, **kwargs)
    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    text_config: dict[str, Any] = {
        "vocab_size": len(tok),
        "max_position_embeddings": CONTEXT,
        **TINY_BERT,
        **SPECIAL,
    }
    model_type = "clip" if family == "hf-clip" else "siglip"
    vision_config = _hf_vision()
    arch: dict[str, Any] = {
        "model_type": model_type,
        "text_config": text_config,
        "vision_config": vision_config,
    }
    if model_type == "clip":
        arch["projection_dim"] = EMBED_DIM
    else:
        vision_config["hidden_size"] = text_config["hidden_size"] = text_config["projection_size"] = EMBED_DIM
    return vi_clip.create_model(name, tokenizer=tok, arch=arch, image=image, max_length=CONTEXT, **kwargs)

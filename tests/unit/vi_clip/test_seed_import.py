"""The seed importer: a state_dict in the seed's layout (tiny towers) comes out as our checkpoint that
embeds exactly as the seed's own forward pass, and a file that does not fit is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import timm
import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoModel, RobertaConfig

import vi_clip
from deploy.harness.backends import tiny_tokenizer_dir
from vi_clip.seed_import import import_seed, main
from vi_clip.text import normalize_text

ARCH = "resnet18"
TIMM_KWARGS = {"layers": [1, 1, 1, 1], "channels": [8, 16, 32, 64], "stem_width": 8}
TEXTS = ["Một con mèo đen nằm trên ghế", "hai người đang chơi quần vợt"]


class SeedHead(nn.Module):
    """The seed's ProjectionHead, written out again here rather than imported from vi_clip."""

    def __init__(self, in_dim: int) -> None:
        super().__init__()
        self.projection = nn.Linear(in_dim, 256)
        self.gelu = nn.GELU()
        self.fc = nn.Linear(256, 256)
        self.dropout = nn.Dropout(0.1)
        self.layer_norm = nn.LayerNorm(256)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        projected = self.projection(x)
        x = self.fc(self.gelu(projected))
        x = self.dropout(x)
        return self.layer_norm(x + projected)


class SeedModel(nn.Module):
    """The seed's CLIPModel: four children with the seed's names."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.image_encoder = nn.Module()
        self.image_encoder.model = timm.create_model(ARCH, num_classes=0, global_pool="avg", **TIMM_KWARGS)
        self.text_encoder = nn.Module()
        config = RobertaConfig(
            vocab_size=vocab, hidden_size=64, num_hidden_layers=1, num_attention_heads=1,
            intermediate_size=128, max_position_embeddings=66, type_vocab_size=1,
            pad_token_id=1, bos_token_id=0, eos_token_id=2,
        )  # fmt: skip
        self.text_encoder.model = AutoModel.from_config(config)
        self.image_projection = SeedHead(64)
        self.text_projection = SeedHead(64)

    def embed(self, pixels: torch.Tensor, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.image_projection(self.image_encoder.model(pixels))
        hidden = self.text_encoder.model(**batch).last_hidden_state
        return F.normalize(image, dim=-1), F.normalize(self.text_projection(hidden[:, 0]), dim=-1)


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, SeedModel]:
    from transformers import AutoTokenizer

    root = tmp_path_factory.mktemp("seed")
    tok_dir = root / "phobert"
    tok_dir.mkdir()
    tiny_tokenizer_dir(tok_dir)
    (tok_dir / "config.json").unlink()  # as for a tokenizer-only folder: the importer reads shapes
    torch.manual_seed(0)
    seed = SeedModel(len(AutoTokenizer.from_pretrained(str(tok_dir)))).eval()
    torch.save(seed.state_dict(), root / "uit-vilc-tiny.pt")
    return root / "uit-vilc-tiny.pt", tok_dir, seed


def test_imported_model_embeds_as_the_seed(seed_file: tuple[Path, Path, SeedModel], tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    path, tok_dir, seed = seed_file
    out = tmp_path / "ckpt"
    kwargs = json.dumps(TIMM_KWARGS)
    main(
        [
            "--in",
            str(path),
            "--arch",
            ARCH,
            "--tokenizer",
            str(tok_dir),
            "--out",
            str(out),
            "--timm-kwargs",
            kwargs,
        ]
    )
    ours = vi_clip.create_model(str(out))
    pixels = torch.randn(2, 3, 224, 224)
    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    enc = tok(
        [normalize_text(t) for t in TEXTS], padding=True, truncation=True, max_length=128, return_tensors="pt"
    )
    with torch.no_grad():
        img, txt = seed.embed(
            pixels, {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        )
    torch.testing.assert_close(ours.encode_image(pixels), img, rtol=0, atol=1e-5)
    torch.testing.assert_close(ours.encode_text(TEXTS), txt, rtol=0, atol=1e-5)
    assert ours.image_size == 224 and float(ours.logit_scale.exp()) == 1.0


def test_an_extra_tensor_is_refused(seed_file: tuple[Path, Path, SeedModel], tmp_path: Path) -> None:
    _, tok_dir, seed = seed_file
    state = {**seed.state_dict(), "text_projection.extra.weight": torch.zeros(3)}
    torch.save(state, tmp_path / "extra.pt")
    with pytest.raises(ValueError, match=r"unused tensors .*extra"):
        import_seed(tmp_path / "extra.pt", ARCH, str(tok_dir), tmp_path / "out", timm_kwargs=TIMM_KWARGS)
    assert not (tmp_path / "out").exists()


def test_a_wrong_tower_is_refused(seed_file: tuple[Path, Path, SeedModel], tmp_path: Path) -> None:
    path, tok_dir, _ = seed_file
    with pytest.raises(ValueError, match=r"missing tensors|wrong shapes"):
        import_seed(path, "efficientnet_b0", str(tok_dir), tmp_path / "out")

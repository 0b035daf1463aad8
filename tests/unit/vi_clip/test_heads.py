"""The projection head keeps the seed's module names and computes the seed's forward pass."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vi_clip.heads import ProjectionHead


def test_head_matches_the_seed_formula() -> None:
    torch.manual_seed(0)
    head = ProjectionHead(12, 8, dropout=0.1).eval()
    assert set(head.state_dict()) == {
        "projection.weight",
        "projection.bias",
        "fc.weight",
        "fc.bias",
        "layer_norm.weight",
        "layer_norm.bias",
    }
    x = torch.randn(4, 12)
    p = F.linear(x, head.projection.weight, head.projection.bias)
    h = F.linear(F.gelu(p), head.fc.weight, head.fc.bias) + p
    expected = F.layer_norm(h, (8,), head.layer_norm.weight, head.layer_norm.bias)
    torch.testing.assert_close(head(x), expected)


def test_model_uses_the_seed_module_layout() -> None:
    import vi_clip

    keys = set(vi_clip.create_model("vi-tiny").state_dict())
    for prefix in (
        "image_encoder.model.",
        "text_encoder.model.",
        "image_projection.fc.",
        "text_projection.layer_norm.",
    ):
        assert any(k.startswith(prefix) for k in keys), prefix

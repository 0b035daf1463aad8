"""The lean RoBERTa inference forward gives the transformers forward's hidden states; training
and unsupported configurations keep the transformers forward."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from transformers import AutoConfig, AutoModel

from vi_clip import lean_text
from vi_clip.config import TextTowerConfig
from vi_clip.towers import TextEncoder


def _roberta(**overrides: Any) -> Any:
    params = dict(
        vocab_size=97,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=48,
        max_position_embeddings=40,
        pad_token_id=1,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(0)
    return AutoModel.from_config(AutoConfig.for_model("roberta", **{**params, **overrides})).eval()


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Three texts of different lengths, padded with pad id 1, as the tokenizer pads them."""
    lengths = (9, 4, 12)
    ids = torch.full((3, 12), 1, dtype=torch.long)
    mask = torch.zeros((3, 12), dtype=torch.long)
    gen = torch.Generator().manual_seed(1)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.randint(3, 97, (n,), generator=gen)
        ids[row, 0], ids[row, n - 1] = 0, 2
        mask[row, :n] = 1
    return ids, mask


@pytest.mark.parametrize("act", ["gelu", "relu"])
@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_the_lean_forward_gives_the_transformers_hidden_states(act: str, attn: str) -> None:
    model = _roberta(hidden_act=act, attn_implementation=attn)
    assert lean_text.supports(model)
    ids, mask = _batch()
    with torch.inference_mode():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
        got = lean_text.lean_forward(model, ids, mask)
        one = lean_text.lean_forward(model, ids[1:2, :4], mask[1:2, :4])  # a lone, unpadded text
    real = mask.bool()
    torch.testing.assert_close(got[real], want[real], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(one[0], want[1, :4], rtol=1e-5, atol=1e-5)


def test_unsupported_configurations_keep_the_transformers_forward() -> None:
    assert not lean_text.supports(_roberta(is_decoder=True))
    assert not lean_text.supports(_roberta(chunk_size_feed_forward=4))
    assert not lean_text.supports(_roberta(hidden_act="silu"))
    sizes = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 48}
    bert = AutoModel.from_config(AutoConfig.for_model("bert", **sizes))
    assert not lean_text.supports(bert)


def test_the_text_tower_uses_it_for_inference_only(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = TextTowerConfig(
        hf_config={
            "model_type": "roberta",
            "vocab_size": 97,
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "intermediate_size": 48,
            "max_position_embeddings": 40,
            "pad_token_id": 1,
        },
        pool="mean",
    )
    tower = TextEncoder(cfg)
    assert tower.lean
    calls: list[int] = []
    real = lean_text.lean_forward
    monkeypatch.setattr(lean_text, "lean_forward", lambda *a: calls.append(1) or real(*a))
    ids, mask = _batch()
    tower.eval()
    with torch.inference_mode():
        served = tower(ids, mask)
    assert calls == [1]
    with torch.no_grad():
        tower.lean = False
        reference = tower(ids, mask)
        tower.lean = True
    torch.testing.assert_close(served, reference, rtol=1e-5, atol=1e-5)
    tower.train()
    out = tower(ids, mask)  # training: gradients through the transformers forward
    out.sum().backward()
    assert calls == [1] and tower.model.embeddings.word_embeddings.weight.grad is not None

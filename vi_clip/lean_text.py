"""A RoBERTa encoder's inference forward without the transformers call stack around it.

Serving answers one short query at a time. For the demo's two-layer text tower the arithmetic
of such a forward is a few dozen small matrix products; through `RobertaModel.forward` each
layer also passes keyword-deprecation and output-capturing wrappers, mask builders and chunking
helpers, which on a 2-core machine cost about three times the arithmetic (cProfile: 0.24 ms of
torch kernels in a 4 ms call). `lean_forward` runs the same modules' weights in the same order
(embeddings, then per layer attention, residual and LayerNorm, feed-forward, residual and
LayerNorm) and gives the same last hidden state to float rounding; `supports` says which
configurations that holds for, and anything else keeps the transformers forward. Training
always uses the transformers forward.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

_ACTIVATIONS = ("gelu", "relu", "gelu_new", "gelu_pytorch_tanh")


def supports(model: nn.Module) -> bool:
    """Whether `lean_forward` gives this model's last hidden state: a plain RoBERTa encoder
    (absolute positions, no decoder, no cross-attention, no feed-forward chunking)."""
    if type(model).__name__ != "RobertaModel":
        return False
    cfg: Any = getattr(model, "config", None)
    return (
        cfg is not None
        and getattr(cfg, "position_embedding_type", "absolute") == "absolute"
        and not getattr(cfg, "is_decoder", False)
        and not getattr(cfg, "add_cross_attention", False)
        and getattr(cfg, "chunk_size_feed_forward", 0) == 0
        and getattr(cfg, "type_vocab_size", 1) >= 1
        and cfg.hidden_act in _ACTIVATIONS
        and getattr(cfg, "_attn_implementation", "sdpa") in ("sdpa", "eager")
    )


def _layer_norm(x: torch.Tensor, norm: nn.LayerNorm) -> torch.Tensor:
    return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


def lean_forward(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The last hidden state [B, L, H] of a model `supports` accepts, in eval mode."""
    emb = model.embeddings
    pad = emb.padding_idx
    real = input_ids.ne(pad).int()
    positions = (torch.cumsum(real, dim=1).type_as(real) * real).long() + pad
    x = emb.word_embeddings(input_ids) + emb.token_type_embeddings.weight[0]
    x = _layer_norm(x + emb.position_embeddings(positions), emb.LayerNorm)
    # Unpadded batches (a lone query always) attend everywhere, as transformers' SDPA mask does.
    mask = None if bool(attention_mask.all()) else attention_mask.bool()[:, None, None, :]
    batch, length, _ = x.shape
    for layer in model.encoder.layer:
        attn = layer.attention.self
        shape = (batch, length, -1, attn.attention_head_size)
        q = attn.query(x).view(shape).transpose(1, 2)
        k = attn.key(x).view(shape).transpose(1, 2)
        v = attn.value(x).view(shape).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=attn.scaling)
        a = a.transpose(1, 2).reshape(batch, length, -1)
        out = layer.attention.output
        x = _layer_norm(out.dense(a) + x, out.LayerNorm)
        hidden = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(x))
        x = _layer_norm(layer.output.dense(hidden) + x, layer.output.LayerNorm)
    return x

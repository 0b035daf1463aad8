"""Retrieval metrics where several gallery items can be right: R@K, median rank and mAP."""

from __future__ import annotations

import torch

KS = (1, 5, 10)


def _ranked_metrics(sim: torch.Tensor, relevant: torch.Tensor, ks: tuple[int, ...]) -> dict[str, float]:
    """`sim` [Q, G] scores, `relevant` [Q, G] bool; rank = position of the first relevant item."""
    order = sim.argsort(dim=1, descending=True)
    hits = relevant.gather(1, order)  # [Q, G] relevance in ranked order
    if not bool(hits.any(dim=1).all()):
        raise ValueError("every query needs at least one relevant gallery item")
    first = hits.float().argmax(dim=1) + 1  # 1-based rank of the first hit
    cum = hits.float().cumsum(dim=1)
    positions = torch.arange(1, hits.shape[1] + 1, device=sim.device).float()
    ap = ((cum / positions) * hits).sum(dim=1) / hits.sum(dim=1)
    out = {f"r{k}": float((first <= k).float().mean()) for k in ks}
    out["median_rank"] = float(first.float().median())
    out["map"] = float(ap.mean())
    return out


def retrieval_metrics(
    image_emb: torch.Tensor,
    text_emb: torch.Tensor,
    image_keys: list[str],
    text_keys: list[str],
    ks: tuple[int, ...] = KS,
) -> dict[str, float]:
    """Text-to-image (`t2i_*`) and image-to-text (`i2t_*`) metrics on unit vectors.

    A gallery item is relevant when its key equals the query's: for captioned photos the key is the
    image itself, for ViShapes-vi it is the scene, so a scene-identical twin counts as a hit.
    """
    ids = {k: i for i, k in enumerate(dict.fromkeys([*image_keys, *text_keys]))}
    ik = torch.tensor([ids[k] for k in image_keys])
    tk = torch.tensor([ids[k] for k in text_keys])
    relevant = tk[:, None] == ik[None, :]
    sim = text_emb.float() @ image_emb.float().T
    t2i = _ranked_metrics(sim, relevant, ks)
    i2t = _ranked_metrics(sim.T, relevant.T, ks)
    return {**{f"t2i_{k}": v for k, v in t2i.items()}, **{f"i2t_{k}": v for k, v in i2t.items()}}


def precision_metrics(
    sim: torch.Tensor, relevant: torch.Tensor, ks: tuple[int, ...] = (1, 10)
) -> dict[str, float]:
    """Queries with many right answers: precision@K (share of the top K that satisfy the query) and
    mAP over every relevant gallery item. `sim` [Q, G] scores, `relevant` [Q, G] bool."""
    order = sim.argsort(dim=1, descending=True)
    hits = relevant.gather(1, order).float()
    positions = torch.arange(1, hits.shape[1] + 1, device=sim.device).float()
    ap = ((hits.cumsum(dim=1) / positions) * hits).sum(dim=1) / hits.sum(dim=1).clamp(min=1)
    out = {f"p{k}": float(hits[:, :k].mean()) for k in ks}
    out["map"] = float(ap.mean())
    return out


def top_scores(sim: torch.Tensor, relevant: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each query's best score and whether its top result is right."""
    best, at = sim.max(dim=1)
    return best, relevant.gather(1, at[:, None]).squeeze(1)

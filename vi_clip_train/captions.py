"""The caption sampler: which text of an image a training step sees, written the way people search.

People type a few words ("ngôi sao vàng", "hai con mèo"), often without accents, not the full
description a caption gives. Each step therefore draws, per image:

- on ViShapes-vi (records that carry their scene): the full caption with `full_prob`, otherwise a
  partial query true of the scene (`vishapes.queries.sample_query`: any subset of objects and of
  shape / colour / size / position, exact counts, prefixes such as "tìm" or "cho tôi xem", filler
  words dropped); the batch's positives are every image the query is true of;
- on real captions (UIT-ViIC, KTVIC, JSONL/CSV): one of the image's captions, cropped with
  `crop_prob` to a contiguous run of its clauses (split at commas and "và"/"với"/"đang"/"trên"/
  "ở"/"bên"), with `word_dropout` of its words dropped and a search prefix added with `prefix_prob`;
  images sharing an identical caption are positives of each other (no false negatives);
- in both, diacritics stripped with `strip_diacritics_prob`;
- with `foil_prob`, a near miss per image as an extra negative text (NegCLIP's hard negatives):
  the query with one shape, colour, size, position or count changed ("hai ngôi sao" for a picture
  of one star), checked false of its scene; on real captions one colour or number word swapped.
  A batch of short queries is otherwise answerable from colour alone, and the towers learn colour
  only: a foil differs from the truth in exactly what the shortcut ignores.

On real data the crop is what helps, and foils teach the colours and counts captions state.
Vietnamese captions put the subject first ("một người đàn ông đang ..."), so a leading run of
clauses is a query people type, while the tail still trains the details. Keep `word_dropout`
low (≤ 0.1) there: a dropped "không" changes the meaning.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from vi_clip.text import strip_diacritics

from .data import ImageRecord
from .vishapes.queries import (
    Query,
    QuerySampling,
    foil_query,
    full_query,
    query_text,
    relevance,
    sample_query,
)

REAL_FOIL_WORDS = (  # words of real captions a swap makes false, each class swapped within itself
    ("đỏ", "xanh", "vàng", "trắng", "đen", "hồng", "tím", "cam", "nâu", "xám"),
    ("một", "hai", "ba", "bốn"),
)
CLAUSE_SPLIT = re.compile(r",\s*|\s+(?=(?:và|với|đang|trên|ở|bên|cạnh|dưới)\s)")
SEARCH_PREFIXES = ("", "", "ảnh", "tìm", "ảnh có", "cho tôi xem")


@dataclass
class CaptionSampling:
    """The recipe's knobs (all on the training CLI as `--caption-*`)."""

    full_prob: float = 0.25  # ViShapes-vi: the full description instead of a partial query
    crop_prob: float = 0.5  # real captions: keep a contiguous run of clauses
    word_dropout: float = 0.05  # real captions: drop each word with this chance
    prefix_prob: float = 0.2  # real captions: prepend a search prefix
    strip_diacritics_prob: float = 0.3
    foil_prob: float = 0.0  # a near-miss negative text per image (0: none)
    foil_rebind: float = 0.0  # ViShapes-vi: share of foils built from the scene's own values
    queries: QuerySampling = field(default_factory=QuerySampling)


def crop_caption(text: str, rng: random.Random, cfg: CaptionSampling) -> str:
    """A real caption as a query: some of its clauses, a few words dropped, maybe a prefix."""
    clauses = [c for c in CLAUSE_SPLIT.split(text) if c.strip()]
    if len(clauses) > 1 and rng.random() < cfg.crop_prob:
        start = 0 if rng.random() < 0.6 else rng.randrange(len(clauses))
        end = rng.randrange(start, len(clauses)) + 1
        text = " ".join(clauses[start:end])
    if cfg.word_dropout > 0:
        words = text.split()
        kept = [w for w in words if rng.random() >= cfg.word_dropout]
        text = " ".join(kept) if len(kept) >= max(1, len(words) // 2) else text
    if rng.random() < cfg.prefix_prob:
        text = f"{rng.choice(SEARCH_PREFIXES)} {text}".strip()
    return text


def foil_caption(text: str, rng: random.Random) -> str | None:
    """A real caption with one colour or number word swapped for another of its class, or None."""
    words = text.split()
    spots = [(i, c) for i, w in enumerate(words) for c in REAL_FOIL_WORDS if w.lower() in c]
    if not spots:
        return None
    i, words_of = rng.choice(spots)
    words[i] = rng.choice([w for w in words_of if w != words[i].lower()])
    return " ".join(words)


class CaptionSampler:
    """Draws one text per image for a training step and knows which images each text is true of.

    `sample` returns the B anchor texts first (text i belongs to image i), then any foils: texts
    that are negatives of their own image and, on ViShapes-vi, positives of whichever batch images
    they are true of."""

    def __init__(self, cfg: CaptionSampling, seed: int) -> None:
        self.cfg = cfg
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)

    def sample(self, records: list[ImageRecord], idx: list[int]) -> tuple[list[str], torch.Tensor]:
        """Texts for `records[idx]` (B anchors, then foils) and the [texts, B] bool matrix of which
        image each text is true of."""
        texts: list[str] = []
        queries: list[Query] = []
        foils: list[str] = []
        foil_queries: list[Query] = []
        for i in idx:
            rec = records[i]
            foil: str | None = None
            want_foil = self.cfg.foil_prob > 0 and self.rng.random() < self.cfg.foil_prob
            if rec.scene is not None:
                if self.rng.random() < self.cfg.full_prob:
                    text, query = self.rng.choice(rec.captions), full_query(rec.scene)
                else:
                    query = sample_query(rec.scene, self.np_rng, self.cfg.queries)
                    text = query_text(query, self.np_rng, self.cfg.queries.dropout)
                queries.append(query)
                near = (
                    foil_query(query, rec.scene, self.np_rng, rebind=self.cfg.foil_rebind)
                    if want_foil
                    else None
                )
                if near is not None:
                    foil_queries.append(near)
                    foil = query_text(near, self.np_rng, self.cfg.queries.dropout)
            else:
                text = crop_caption(self.rng.choice(rec.captions), self.rng, self.cfg)
                foil = foil_caption(text, self.rng) if want_foil else None
            if self.rng.random() < self.cfg.strip_diacritics_prob:
                text = strip_diacritics(text)
                foil = strip_diacritics(foil) if foil is not None else None
            texts.append(text)
            if foil is not None:
                foils.append(foil)
        positives = self._positives(records, idx, texts, queries)
        if foils:
            scenes = [records[i].scene for i in idx]
            if len(foil_queries) == len(foils) and all(s is not None for s in scenes):
                foil_pos = relevance(foil_queries, [s for s in scenes if s is not None])
            else:  # real captions: a foil is a negative of every image
                foil_pos = torch.zeros(len(foils), len(idx), dtype=torch.bool)
            positives = torch.cat([positives, foil_pos])
        return texts + foils, positives

    @staticmethod
    def _positives(
        records: list[ImageRecord], idx: list[int], texts: list[str], queries: list[Query]
    ) -> torch.Tensor:
        keys = [records[i].key for i in idx]
        same = torch.tensor([[a == b for b in keys] for a in keys])
        scenes = [records[i].scene for i in idx]
        if queries and len(queries) == len(idx) and all(s is not None for s in scenes):
            return relevance(queries, [s for s in scenes if s is not None]) | same
        norm = [strip_diacritics(t).lower() for t in texts]
        return same | torch.tensor([[a == b for b in norm] for a in norm])

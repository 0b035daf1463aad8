"""Tokenizers: a hub/local one for pretrained text towers, or our own byte-level BPE for from-scratch ones."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from .text import prepare_text

BYTELEVEL = "bytelevel"
# RoBERTa's special tokens in RoBERTa's order, so ids match RobertaConfig's bos=0, pad=1, eos=2.
SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def train_bytelevel_tokenizer(corpus: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE trained on `corpus` (an empty corpus gives the bare 256-byte alphabet).

    Byte-level means no text is ever out of vocabulary, including diacritic-free or misspelt queries.
    Lower-casing lives in the tokenizer so it is saved with it.
    """
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
    )


def load_tokenizer(spec: str, directory: Path | None = None) -> PreTrainedTokenizerBase:
    """From a checkpoint's `tokenizer/` folder when given, else by spec (bytelevel, hub name, directory)."""
    if directory is not None and directory.is_dir():
        return AutoTokenizer.from_pretrained(str(directory))
    if spec == BYTELEVEL:
        return train_bytelevel_tokenizer([], vocab_size=0)
    try:
        return AutoTokenizer.from_pretrained(spec)
    except OSError as exc:
        raise ValueError(
            f"tokenizer {spec!r} is neither a local directory nor in the Hugging Face cache "
            f"(offline?); pass text={{'tokenizer': 'bytelevel'}} to build a model without it"
        ) from exc


class TextPipeline:
    """Normalise, optionally word-segment, tokenise: the one path from raw strings to tensors.

    A fast (Rust) tokenizer is called straight through a copy of its backend set to the same
    truncation and padding (`_direct_backend`): what `tokenizer(texts, padding=True,
    truncation=True, max_length=...)` computes, without the 0.3-0.5 ms of Python around it a
    query paid on 2 cores. Other tokenizers go through their own call."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, segment: str, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.segment = segment
        self.max_length = max_length
        self._backend = _direct_backend(tokenizer, max_length)

    def __call__(self, texts: list[str]) -> dict[str, torch.Tensor]:
        prepared = [prepare_text(t, self.segment) for t in texts]
        if self._backend is not None and prepared:
            encodings = self._backend.encode_batch(prepared)
            return {
                "input_ids": torch.tensor([e.ids for e in encodings], dtype=torch.long),
                "attention_mask": torch.tensor([e.attention_mask for e in encodings], dtype=torch.long),
            }
        enc = self.tokenizer(
            prepared, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def _direct_backend(tokenizer: PreTrainedTokenizerBase, max_length: int) -> Tokenizer | None:
    """A copy of a fast tokenizer's backend that truncates and pads as its call with
    `padding=True, truncation=True, max_length=max_length` does; None for any other tokenizer."""
    if not isinstance(tokenizer, PreTrainedTokenizerFast) or tokenizer.pad_token_id is None:
        return None
    backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    backend.enable_truncation(
        max_length=max_length, stride=0, strategy="longest_first", direction=tokenizer.truncation_side
    )
    backend.enable_padding(
        direction=tokenizer.padding_side,
        pad_id=tokenizer.pad_token_id,
        pad_type_id=tokenizer.pad_token_type_id,
        pad_token=str(tokenizer.pad_token),
    )
    return backend

"""Vietnamese text clean-up shared by training and serving, so a query is seen exactly as captions were."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

_SPACE = re.compile(r"\s+")
# Spaces before closing punctuation and after opening brackets carry no meaning; drop them.
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)\]}%])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[{])\s+")
_REPEATED_PUNCT = re.compile(r"([,;:!?])\1+")  # "..." is kept: an ellipsis means something
# Typographic variants a phone keyboard produces, mapped to the ASCII forms captions use.
_PUNCT_MAP = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "..."})
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"))

SEGMENTERS = ("none", "underthesea", "pyvi")


def normalize_text(s: str) -> str:
    """NFC, invisible characters removed, typographic punctuation folded, whitespace collapsed.

    NFC first: Vietnamese text arrives both precomposed and decomposed (macOS, some IMEs), and the
    two must tokenise identically.
    """
    s = unicodedata.normalize("NFC", s).translate(_INVISIBLE).translate(_PUNCT_MAP)
    s = _REPEATED_PUNCT.sub(r"\1", s)
    s = _SPACE.sub(" ", s).strip()
    s = _SPACE_BEFORE_PUNCT.sub(r"\1", s)
    return _SPACE_AFTER_OPEN.sub(r"\1", s)


def strip_diacritics(s: str) -> str:
    """Remove Vietnamese tone and vowel marks (and đ -> d), as a user typing without an IME would."""
    decomposed = unicodedata.normalize("NFD", s)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare.replace("đ", "d").replace("Đ", "D"))


@cache
def get_segmenter(kind: str) -> Callable[[str], str]:
    """Word segmenter joining multi-syllable words with "_" (what PhoBERT-family towers expect).

    Both backends are offline; imported lazily because they cost seconds to load.
    """
    if kind == "none":
        return lambda s: s
    if kind == "underthesea":
        from underthesea import word_tokenize

        return lambda s: str(word_tokenize(s, format="text"))
    if kind == "pyvi":
        from pyvi import ViTokenizer

        return lambda s: str(ViTokenizer.tokenize(s))
    raise ValueError(f"unknown segmenter {kind!r}; known: {', '.join(SEGMENTERS)}")


def prepare_text(s: str, segment: str = "none") -> str:
    """The full pipeline a text goes through before the tokenizer."""
    return get_segmenter(segment)(normalize_text(s))

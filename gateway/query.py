"""Query text as the gateway sees it: NFC, single spaces, no control characters."""

from __future__ import annotations

import hashlib
import unicodedata

from services.common.errors import ApiError


def normalize_query(text: str) -> str:
    """NFC and collapsed whitespace; NFD input (macOS, some keyboards) gives the same string."""
    if "\x00" in text or any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise ApiError(422, "invalid_query", "The query contains control characters.")
    normalized = " ".join(unicodedata.normalize("NFC", text).split())
    if not normalized:
        raise ApiError(422, "empty_query", "The query is empty.")
    return normalized


def digest(*parts: object) -> str:
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()

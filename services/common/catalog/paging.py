"""Cursors of the catalog's listings: opaque to clients, keyset positions to the database.

A cursor names the last row a page returned (its sort value and id), so the next page starts
right after it through the listing's index, however deep it is, and rows added meanwhile
neither repeat nor shift a page.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Literal

ImageOrder = Literal["taken_at", "uploaded"]
Direction = Literal["asc", "desc"]


# Whether each listing's sort value is an instant (upload and creation times, aware) or a date
# taken as stored (naive).
_AWARE = {"c": True, "u": True, "t": False}


class InvalidCursor(ValueError):
    """A cursor this listing did not hand out (another order, edited, truncated)."""


def encode_cursor(kind: str, value: datetime | None, row_id: str) -> str:
    raw = json.dumps([kind, value.isoformat() if value is not None else None, row_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> tuple[datetime | None, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got, value, row_id = json.loads(raw)
        if got != kind or not isinstance(row_id, str):
            raise ValueError(kind)
        moment = datetime.fromisoformat(value) if value is not None else None
        if moment is not None and (moment.tzinfo is not None) != _AWARE[kind]:
            raise ValueError(value)
        return moment, row_id
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor does not belong to this listing") from exc

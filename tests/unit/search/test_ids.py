"""Packed row ids read back as they were given, found by id exactly, and cost ~40 bytes a row."""

from __future__ import annotations

import numpy as np
import pytest

from services.search.ids import PackedIds


def test_packed_ids_read_back_in_order_whatever_their_characters() -> None:
    ids = ["0f" * 16, "ảnh-Đà-Lạt", "", "x" * 128, "phở"]
    packed = PackedIds.of(ids)
    assert len(packed) == 5 and list(packed) == ids
    assert [packed[i] for i in range(5)] == ids and packed[-1] == "phở" and packed[np.int64(1)] == ids[1]
    assert packed[1:4] == ids[1:4]
    with pytest.raises(IndexError):
        packed[5]
    joined = PackedIds.concat([packed, PackedIds.of(["a", "bé"]), PackedIds.of([])])
    assert list(joined) == [*ids, "a", "bé"]


def test_rows_taken_at_once_read_like_one_by_one() -> None:
    ids = ["0f" * 16, "ảnh-Đà-Lạt", "", "x" * 128, "phở", "a", "bé"]
    packed = PackedIds.concat([PackedIds.of(ids[:5]), PackedIds.of(ids[5:])])
    rows = [6, 0, 4, 4, 2, 1, 5, 3]
    assert packed.take(rows) == [ids[r] for r in rows]
    assert packed.take(np.array(rows, dtype=np.int64)) == [ids[r] for r in rows]
    assert packed.take([]) == [] and packed.take(np.array([], dtype=np.int64)) == []


def test_a_million_hex_ids_take_about_forty_bytes_each() -> None:
    ids = [f"{i:032x}" for i in range(1_000_000)]
    packed = PackedIds.of(ids)
    assert packed.nbytes == 40 * len(ids)
    assert packed[123_456] == ids[123_456]

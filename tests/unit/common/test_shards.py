"""The index's storage key layout: every key a collection's pointer is stored under reads back to it."""

from __future__ import annotations

import pytest

from services.common.shards import CURRENT_PREFIX, collection_of_current_key, current_key


@pytest.mark.parametrize("cid", ["c1", "col-0123abcd", "a.b.json"])
def test_a_pointer_key_names_its_collection(cid: str) -> None:
    assert current_key(cid).startswith(CURRENT_PREFIX)
    assert collection_of_current_key(current_key(cid)) == cid


@pytest.mark.parametrize(
    "key", ["index-current/", "index-current/.json", "index-current/c1.tmp", "index/c1/v/manifest.json"]
)
def test_other_keys_name_no_collection(key: str) -> None:
    assert collection_of_current_key(key) is None

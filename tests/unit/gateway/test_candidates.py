"""The cached candidate list: compact bytes, a bounded size, and pages and thresholds cut from it."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from gateway.candidates import Candidates, CorruptCandidates, LocalCandidates
from gateway.hydrate import match
from services.common.schemas.public import MAX_DEPTH
from services.common.schemas.search import Hit


def _hits(n: int, hex_ids: bool = True) -> list[Hit]:
    scores = np.linspace(0.9, -0.3, n)
    out = []
    for i, score in enumerate(scores):
        image_id = hashlib.sha256(str(i).encode()).hexdigest()[:32] if hex_ids else f"img-{i}_x"
        out.append(Hit(image_id=image_id, collection_id=f"col{i % 3}", score=float(score)))
    return out


@pytest.mark.parametrize("hex_ids", [True, False])
def test_round_trip_keeps_order_ids_collections_and_scores(hex_ids: bool) -> None:
    hits = _hits(50, hex_ids)
    original = Candidates.from_hits(hits, total_candidates=777, depth=MAX_DEPTH)
    back = Candidates.decode(original.encode(max_bytes=1 << 20))
    assert back.image_ids == [h.image_id for h in hits]
    assert back.collection_ids == [h.collection_id for h in hits]
    assert np.allclose(back.scores, [h.score for h in hits], atol=1e-7)
    assert back.total_candidates == 777 and back.exhaustive


@pytest.mark.parametrize(
    "odd",
    [
        "ABCDEF0123456789ABCDEF0123456789",  # upper case: would not read back as sent
        "abcdef0123456789abcdef012345678",  # 31 digits, and the next id 33
        "abcdef0123456789 bcdef0123456789",  # a space the hex conversion would skip
        "ghijkl0123456789abcdef0123456789",  # not hex at all
    ],
)
def test_ids_that_only_look_like_catalog_ids_read_back_exactly(odd: str) -> None:
    hits = _hits(4)
    if len(odd) == 31:
        hits[2] = hits[2].model_copy(update={"image_id": hits[2].image_id + "a"})
    hits[1] = hits[1].model_copy(update={"image_id": odd})
    back = Candidates.decode(Candidates.from_hits(hits, 4, MAX_DEPTH).encode(max_bytes=1 << 20))
    assert back.image_ids == [h.image_id for h in hits]


def test_an_empty_list_and_a_tiny_budget_read_back() -> None:
    empty = Candidates.decode(Candidates.from_hits([], 0, MAX_DEPTH).encode(max_bytes=1 << 20))
    assert empty.image_ids == [] and empty.exhaustive
    cut = Candidates.decode(Candidates.from_hits(_hits(10), 10, MAX_DEPTH).encode(max_bytes=120))
    assert 0 < len(cut) < 10 and not cut.exhaustive
    assert cut.image_ids == [h.image_id for h in _hits(10)][: len(cut)]


def test_a_full_depth_list_of_catalog_ids_is_compact() -> None:
    """1,200 hits in about 26 KB: scores, a collection index and 16 raw bytes per id."""
    data = Candidates.from_hits(_hits(MAX_DEPTH), 5000, MAX_DEPTH).encode(max_bytes=1 << 20)
    assert len(data) <= MAX_DEPTH * (4 + 2 + 16) + 100
    assert not Candidates.decode(data).exhaustive  # as deep as asked: there may be more


def test_encode_drops_the_tail_to_fit_its_budget_and_says_so() -> None:
    full = Candidates.from_hits(_hits(300, hex_ids=False), 300, MAX_DEPTH)
    data = full.encode(max_bytes=2048)
    assert len(data) <= 2048
    cut = Candidates.decode(data)
    assert 0 < len(cut) < 300 and cut.image_ids == full.image_ids[: len(cut)]
    assert not cut.exhaustive
    assert cut.covers(len(cut)) and not cut.covers(len(cut) + 1)
    assert full.covers(10_000)  # every hit there is: any page past it is simply empty


def test_min_score_cuts_at_the_sorted_scores() -> None:
    c = Candidates.from_hits(_hits(13), 13, MAX_DEPTH)  # 0.9, 0.8, ..., -0.3
    assert c.count_at_least(None) == 13
    assert c.count_at_least(0.5) == 5
    assert c.count_at_least(0.95) == 0 and c.count_at_least(-1.0) == 13
    assert [h.image_id for h in c.hits(3, 6)] == c.image_ids[3:6]
    assert c.hits(12, 40) == c.hits(12, 13)


def test_labels_follow_the_threshold() -> None:
    assert match(0.41, 0.4) == "strong" and match(0.4, 0.4) == "strong"
    assert match(0.39, 0.4) == "weak"
    assert match(0.99, None) is None


@pytest.mark.parametrize("data", [b"", b"qc1", b"not a list at all", b'{"results": []}'])
def test_bytes_that_are_not_a_list_are_refused(data: bytes) -> None:
    with pytest.raises(CorruptCandidates):
        Candidates.decode(data)


def test_the_in_process_lists_stay_within_their_byte_budget() -> None:
    local = LocalCandidates(max_bytes=1000, ttl_s=60)
    lists = {f"k{i}": Candidates.from_hits(_hits(5), 5, MAX_DEPTH) for i in range(4)}
    for key, c in lists.items():
        local.put(key, c, size=300)
    assert local.get("k0") is None  # the oldest went first
    assert all(local.get(k) is lists[k] for k in ("k1", "k2", "k3"))
    local.put("k4", lists["k0"], size=300)
    assert local.get("k1") is None and local.get("k3") is lists["k3"]

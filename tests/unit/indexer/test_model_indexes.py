"""A collection indexed by two models at once: each model's index is its own index id, built from
that model's vectors, while deletions, the deleted marker and purging are the collection's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.common.clients import EncoderClient
from services.common.clients.encoders import EncoderSet
from services.common.index_signals import StoreSignals
from services.common.routing import (
    ModelRouting,
    data_collection,
    index_id,
    model_of_index,
    read_routing,
    write_routing,
)
from services.common.shards import deleted_key, read_current, tombgen_key, tombstone_key
from services.common.storage.local import LocalObjectStore
from services.indexer.deletes import Deleter
from services.indexer.locks import FileLocks
from services.indexer.publisher import BuildConfig, CollectionDeleted, Publisher
from services.indexer.purge import index_ids_of, purge_index
from services.indexer.switching import ModelSwitch, SwitchRunner
from tests.support.catalogs import catalog_with, sqlite_url
from tests.support.index_data import clustered, ids_for, write_batches

CID = "album-2024"


def test_index_ids_name_the_model_except_the_base_one() -> None:
    assert index_id(CID, "mvA", "mvA") == CID
    assert index_id(CID, "mvA", None) == CID
    other = index_id(CID, "mvB", "mvA")
    assert other == f"{CID}@mvB"
    assert data_collection(other) == data_collection(CID) == CID
    assert (model_of_index(other), model_of_index(CID)) == ("mvB", None)


def test_routing_embeds_new_images_by_every_model_it_keeps(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    assert read_routing(store) is None
    switching = ModelRouting(serving="mvA", base="mvA", target="mvB")
    assert switching.embedded == ["mvA", "mvB"]
    assert switching.index_ids(CID) == {"mvA": CID, "mvB": f"{CID}@mvB"}
    flipped = ModelRouting(serving="mvB", base="mvA", previous="mvA")
    assert flipped.embedded == ["mvB", "mvA"] and flipped.index_id(CID) == f"{CID}@mvB"
    write_routing(store, flipped)
    got = read_routing(store)
    assert got is not None
    assert (got.serving, got.base, got.previous, got.target) == ("mvB", "mvA", "mvA", None)
    assert ModelRouting(serving="mvB", base="mvA").embedded == ["mvB"]


async def test_each_model_index_is_built_from_its_own_vectors_and_shares_deletions(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    signals = StoreSignals(store)
    publisher = Publisher(store, signals, FileLocks(tmp_path / "locks"), BuildConfig(shard_count=2))
    ids = ids_for(120)
    write_batches(store, CID, ids, clustered(120, 32), model_version="mvA")
    write_batches(store, CID, ids[:100], clustered(100, 16, seed=3), model_version="mvB")
    await publisher.publish(CID, "mvA")
    await publisher.publish(f"{CID}@mvB", "mvB")
    a, b = read_current(store, CID), read_current(store, f"{CID}@mvB")
    assert a is not None and b is not None
    assert (a.model_version, a.count, b.model_version, b.count) == ("mvA", 120, "mvB", 100)
    with pytest.raises(ValueError, match="model mvB's"):
        publisher._publish(f"{CID}@mvB", "mvA", None)

    deleter = Deleter(store, signals, publisher, fold_interval_s=0.05)
    write_routing(store, ModelRouting(serving="mvA", base="mvA", target="mvB"))
    await deleter.delete_image(CID, ids[0])
    await deleter.folds.idle()
    assert store.stat(tombstone_key(CID, ids[0])) is not None
    assert store.stat(tombgen_key(f"{CID}@mvB")) is None  # one generation, the collection's
    a, b = read_current(store, CID), read_current(store, f"{CID}@mvB")
    assert a is not None and b is not None and (a.count, b.count) == (119, 99)
    latest = await signals.latest([CID, f"{CID}@mvB"])
    assert latest[CID].tombgen == latest[f"{CID}@mvB"].tombgen != "0"

    assert sorted(index_ids_of(store, CID)) == [CID, f"{CID}@mvB"]
    await deleter.delete_collection(CID)
    assert store.stat(deleted_key(CID)) is not None
    with pytest.raises(CollectionDeleted):
        await publisher.publish(f"{CID}@mvB", "mvB")
    purge_index(store, CID)
    assert [k for k in store.list_keys() if CID in k] == [deleted_key(CID)]


async def test_a_previous_model_is_collected_once_kept_long_enough(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    catalog = catalog_with(store, sqlite_url(tmp_path), CID)
    locks = FileLocks(tmp_path / "locks")
    publisher = Publisher(store, StoreSignals(store), locks, BuildConfig(shard_count=2))
    ids = ids_for(50)
    write_batches(store, CID, ids, clustered(50, 32), model_version="mvA")
    write_batches(store, CID, ids, clustered(50, 16, seed=3), model_version="mvB")
    await publisher.publish(CID, "mvA")
    await publisher.publish(f"{CID}@mvB", "mvB")
    write_routing(store, ModelRouting(serving="mvB", base="mvA", previous="mvA"))
    nowhere = EncoderSet([EncoderClient("http://127.0.0.1:9", 0.5)])
    runner = SwitchRunner(ModelSwitch(store, catalog, publisher, nowhere), keep_s=0.3)
    try:
        assert not await runner.collect_expired()  # kept: the flip was just now
        assert read_current(store, CID) is not None
        await asyncio.sleep(0.4)
        assert await runner.collect_expired()
        routing = read_routing(store)
        assert routing is not None and (routing.serving, routing.previous) == ("mvB", None)
        assert read_current(store, CID) is None and not store.list_keys(f"vectors/{CID}/mvA/")
        assert read_current(store, f"{CID}@mvB") is not None  # the serving model's index stays
        assert not await runner.collect_expired()
    finally:
        await runner.aclose()
        await nowhere.aclose()
        await catalog.aclose()

"""Settings come from the environment, with per-service prefixes and laptop-safe defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import GatewaySettings
from services.common.settings import CacheSettings, StorageSettings
from services.encoder.settings import EncoderSettings
from services.indexer.settings import IndexerSettings
from services.search.settings import SearchSettings


def test_defaults_work_on_a_laptop(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("REDIS_URL", "STORAGE_S3_ENDPOINT", "STORAGE_BACKEND"):
        monkeypatch.delenv(var, raising=False)
    s = GatewaySettings()
    assert s.port == 7860
    assert s.storage.resolved_backend == "local"
    assert s.cache.redis_url is None
    assert s.api_keys == []
    ports = {EncoderSettings().port, IndexerSettings().port, SearchSettings().port, s.port}
    assert len(ports) == 4


def test_prefixes_lists_and_shared_infrastructure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "9999")
    monkeypatch.setenv("GATEWAY_SEARCH_URLS", "http://a:1, http://b:2")
    monkeypatch.setenv("GATEWAY_API_KEYS", '["k1","k2"]')
    monkeypatch.setenv("SEARCH_SHARDS", "0,2")
    monkeypatch.setenv("INDEXER_IMPORT_ROOTS", "/srv/photos,/mnt/x")
    monkeypatch.setenv("STORAGE_S3_ENDPOINT", "http://minio:9000")
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/0")
    monkeypatch.setenv("ENCODER_PORT", "1")
    g = GatewaySettings()
    assert g.port == 9999
    assert g.search_urls == ["http://a:1", "http://b:2"]
    assert [k.get_secret_value() for k in g.api_keys] == ["k1", "k2"]
    assert g.storage.resolved_backend == "s3"
    assert g.cache.redis_url == "redis://r:6379/0"
    assert SearchSettings().shards == [0, 2]
    assert IndexerSettings().import_roots == [Path("/srv/photos"), Path("/mnt/x")]
    assert EncoderSettings().port == 1


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEARCH_SHARD_COUNT", "0")
    with pytest.raises(ValueError):
        SearchSettings()
    monkeypatch.setenv("STORAGE_BACKEND", "ftp")
    with pytest.raises(ValueError):
        StorageSettings()


def test_secrets_are_not_printed() -> None:
    s = StorageSettings(s3_secret_key="hunter2")
    assert "hunter2" not in repr(s)
    assert CacheSettings().timeout_s < 1

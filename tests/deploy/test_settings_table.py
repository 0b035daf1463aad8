"""The README's configuration table is generated from the settings classes and kept current."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from deploy import settings_table
from deploy.settings_table import END, START, env_vars, markdown_table, readme_section, replace_section
from services.common.settings import CacheSettings, StorageSettings
from tests.deploy.helpers import REPO


def test_every_settings_class_is_found() -> None:
    names = {cls.__name__ for cls in settings_table.settings_classes()}
    assert {"StorageSettings", "CacheSettings", "EncoderSettings", "IndexerSettings"} <= names
    assert {"SearchSettings", "GatewaySettings"} <= names
    assert "ServiceSettings" not in names  # a base: its fields appear under each prefix


def test_names_follow_prefixes_and_aliases() -> None:
    rows = {row.name: row for row in env_vars()}
    assert rows["REDIS_URL"].owner is CacheSettings  # validation_alias, not CACHE_REDIS_URL
    assert "CACHE_REDIS_URL" not in rows
    assert rows["STORAGE_S3_ENDPOINT"].owner is StorageSettings
    assert rows["ENCODER_PORT"].default == "`8101`"
    assert rows["GATEWAY_PORT"].default == "`7860`"
    # storage and cache are listed once, from their own classes, not under each service
    assert not [name for name in rows if "STORAGE__" in name or "CACHE__" in name]
    assert len(rows) == len(env_vars()), "a variable is listed twice"


def test_listed_names_are_the_ones_pydantic_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every string setting, set through its listed name, reaches its field."""
    probed = 0
    for row in env_vars():
        if row.annotation not in (str, str | None):
            continue
        monkeypatch.setenv(row.name, "probe-value")
        value: object = row.owner()
        for part in row.field.split("."):
            value = getattr(value, part)
        assert value == "probe-value", f"{row.name} does not set {row.owner.__name__}.{row.field}"
        monkeypatch.delenv(row.name)
        probed += 1
    assert probed >= 5


class _Batching(BaseModel):
    max_wait_ms: float = Field(5.0, description="Wait for more | items")


class _Nested(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", env_nested_delimiter="__")

    batching: _Batching = Field(default_factory=_Batching)
    storage: StorageSettings = Field(default_factory=StorageSettings)


def test_nested_models_use_the_delimiter(monkeypatch: pytest.MonkeyPatch) -> None:
    [row] = env_vars([_Nested])  # the nested StorageSettings is not repeated
    assert (row.name, row.field, row.default) == (
        "DEMO_BATCHING__MAX_WAIT_MS",
        "batching.max_wait_ms",
        "`5.0`",
    )
    assert row.description == "Wait for more \\| items"
    monkeypatch.setenv(row.name, "7")
    assert _Nested().batching.max_wait_ms == 7


def test_defaults_are_written_as_in_the_environment() -> None:
    rows = {row.name: row for row in env_vars()}
    assert rows["REDIS_URL"].default == "unset"
    assert rows["STORAGE_S3_SECURE"].default == "`false`"
    assert rows["STORAGE_S3_SECRET_KEY"].default == "`minioadmin`"  # SecretStr shown, not masked
    assert rows["GATEWAY_API_KEYS"].default == "empty"
    assert rows["GATEWAY_SEARCH_URLS"].default == "`http://127.0.0.1:8103`"
    assert "(one of `auto`, `cpu`, `cuda`)" in rows["ENCODER_DEVICE"].description


def test_table_is_markdown_with_one_row_per_variable() -> None:
    lines = markdown_table().splitlines()
    assert lines[:2] == ["| variable | default | description |", "| --- | --- | --- |"]
    assert len(lines) == 2 + len(env_vars())
    assert all(line.count(" | ") == 2 for line in lines), "an unescaped | splits a row"


def test_write_replaces_only_the_section() -> None:
    text = f"# Title\n\nbefore\n{START}\nold table\n{END}\nafter\n"
    out = replace_section(text, markdown_table())
    assert out.startswith("# Title\n\nbefore\n") and out.endswith(f"{END}\nafter\n")
    assert readme_section(out) == markdown_table()
    with pytest.raises(ValueError, match="settings-table"):
        readme_section("no markers here")


def test_readme_lists_every_environment_variable() -> None:
    section = readme_section((REPO / "README.md").read_text(encoding="utf-8"))
    listed = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section, flags=re.MULTILINE))
    missing = [row.name for row in env_vars() if row.name not in listed]
    assert not missing, f"not in the README's configuration table: {missing}"
    stale = listed - {row.name for row in env_vars()}
    assert not stale, f"in the README's table but read by no settings class: {sorted(stale)}"


def test_readme_table_is_current() -> None:
    """Defaults and descriptions too: run `python -m deploy.settings_table --write README.md`."""
    assert settings_table.main(["--check", str(REPO / "README.md")]) == 0

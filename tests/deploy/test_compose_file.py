"""docker-compose.yml: valid for Compose, wired as the architecture says, secrets only from .env."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.helpers import REPO, known_vars

COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
PYTHON_SERVICES = ("encoder-cpu", "encoder-gpu", "indexer", "search-0", "search-1", "gateway")


def docker_compose(*args: str, env_file: Path = ENV_EXAMPLE) -> subprocess.CompletedProcess[str]:
    """Debian's docker-compose (no engine needed to validate); `.ci/run` installs it."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is not installed: apt-get install docker-compose"
    # Only PATH from the outside: variables of the test run must not fill in the file.
    return subprocess.run(
        [binary, "--env-file", str(env_file), "-f", str(COMPOSE), *args],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The file as Compose resolves it with the example environment."""
    proc = docker_compose("config")
    assert proc.returncode == 0, proc.stderr
    resolved: dict[str, Any] = yaml.safe_load(proc.stdout)
    return resolved


def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines())
    return {k.strip(): v.strip() for k, v in (p for p in pairs if len(p) == 2) if not k.startswith("#")}


def compose_text() -> str:
    """The compose file without its comments."""
    lines = COMPOSE.read_text(encoding="utf-8").splitlines()
    return "\n".join(re.sub(r"(^|\s)#.*", "", line) for line in lines)


def test_compose_validates_with_the_example_env() -> None:
    proc = docker_compose("config", "-q")
    assert proc.returncode == 0, proc.stderr


def test_compose_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    proc = docker_compose("config", "-q", env_file=empty)
    assert proc.returncode != 0
    assert "in .env" in proc.stderr


def test_no_secret_is_written_in_the_compose_file() -> None:
    text = compose_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert {"MINIO_ROOT_PASSWORD", "REDIS_PASSWORD", "GATEWAY_API_KEYS"} <= required
    assert required <= set(env_example()), "every required variable has an example"
    for value in ("minioadmin", "change-me", "password:"):
        assert value not in text


def test_example_env_sets_nothing_compose_ignores() -> None:
    text = compose_text()
    used = set(re.findall(r"\$\{(\w+)", text)) | {"COMPOSE_PROFILES"}
    assert set(env_example()) <= used


def test_encoder_variants_share_one_name(config: dict[str, Any]) -> None:
    services = config["services"]
    assert services["encoder-cpu"]["profiles"] == ["cpu"]
    assert services["encoder-gpu"]["profiles"] == ["gpu"]
    assert env_example()["COMPOSE_PROFILES"] in {"cpu", "gpu"}
    for name in ("encoder-cpu", "encoder-gpu"):
        assert services[name]["networks"]["default"]["aliases"] == ["encoder"]
    devices = services["encoder-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert services["encoder-gpu"]["environment"]["ENCODER_DEVICE"] == "cuda"
    assert services["encoder-cpu"]["environment"]["ENCODER_DEVICE"] == "cpu"
    profiled = [name for name, s in services.items() if "profiles" in s]
    assert profiled == ["encoder-cpu", "encoder-gpu", "encoder-next-cpu", "encoder-next-gpu"]
    for name in ("indexer", "gateway"):
        env = services[name]["environment"]
        assert {v for k, v in env.items() if k.endswith("ENCODER_URL")} == {"http://encoder:8101"}


def test_a_model_switch_has_its_encoder_beside_the_serving_one(
    config: dict[str, Any], tmp_path: Path
) -> None:
    services = config["services"]
    for variant, device in (("cpu", "cpu"), ("gpu", "cuda")):
        service = services[f"encoder-next-{variant}"]
        assert service["profiles"] == [f"switch-{variant}"]
        assert service["networks"]["default"]["aliases"] == ["encoder-next"]
        assert service["environment"]["ENCODER_DEVICE"] == device
        assert service["environment"]["ENCODER_MODEL"] == "checkpoints/vi-tiny-vishapes"  # .env.example's
    assert "devices" in str(services["encoder-next-gpu"]["deploy"])
    # The gateway and the indexers are told of it by one variable, empty by default.
    alt = {services[n]["environment"][f"{n.upper()}_ENCODER_ALT_URLS"] for n in ("gateway", "indexer")}
    assert alt == {""}
    env = tmp_path / ".env"
    env.write_text(ENV_EXAMPLE.read_text(encoding="utf-8") + "ENCODER_ALT_URLS=http://encoder-next:8101\n")
    resolved = yaml.safe_load(docker_compose("config", env_file=env).stdout)["services"]
    urls = {resolved[n]["environment"][f"{n.upper()}_ENCODER_ALT_URLS"] for n in ("gateway", "indexer")}
    assert urls == {"http://encoder-next:8101"}


def test_indexer_can_be_scaled(config: dict[str, Any]) -> None:
    indexer = config["services"]["indexer"]
    assert "container_name" not in indexer
    assert "ports" not in indexer, "a fixed host port would stop `--scale indexer=N`"


def test_search_replicas_cover_every_shard_once(config: dict[str, Any]) -> None:
    services = config["services"]
    replicas = [name for name in services if name.startswith("search-")]
    assert len(replicas) >= 2
    count = int(services["indexer"]["environment"]["INDEXER_SHARD_COUNT"])
    owned: list[int] = []
    for name in replicas:
        env = services[name]["environment"]
        assert int(env["SEARCH_SHARD_COUNT"]) == count
        owned += [int(s) for s in env["SEARCH_SHARDS"].split(",")]
    assert sorted(owned) == list(range(count))
    urls = services["gateway"]["environment"]["GATEWAY_SEARCH_URLS"].split(",")
    assert sorted(urls) == sorted(f"http://{name}:8103" for name in replicas)


def test_start_up_waits_for_health(config: dict[str, Any]) -> None:
    services = config["services"]
    for name, service in services.items():
        for dep, condition in service.get("depends_on", {}).items():
            assert condition["condition"] in {"service_healthy", "service_completed_successfully"}
            target = services[dep]
            if condition["condition"] == "service_healthy":
                dockerfile = target.get("build", {}).get("dockerfile")
                has_check = "healthcheck" in target or (
                    dockerfile and "HEALTHCHECK" in (REPO / dockerfile).read_text(encoding="utf-8")
                )
                assert has_check, f"{name} waits for {dep}, which has no health check"
    for name in PYTHON_SERVICES:
        assert {"redis", "minio-init"} <= set(services[name]["depends_on"]), name
    assert services["frontend"]["depends_on"] == {"gateway": {"condition": "service_healthy"}}


def test_images_are_built_from_the_repository(config: dict[str, Any]) -> None:
    built = {s["build"]["dockerfile"] for s in config["services"].values() if "build" in s}
    in_repo = {str(p.relative_to(REPO)) for p in (REPO / "deploy" / "docker").glob("*.Dockerfile")}
    assert built == in_repo, "every Dockerfile is used by compose and every build has one"
    assert {Path(s["build"]["context"]) for s in config["services"].values() if "build" in s} == {REPO}


def test_state_lives_in_named_volumes(config: dict[str, Any]) -> None:
    assert {"redis-data", "minio-data", "model-cache"} <= set(config["volumes"])
    services = config["services"]
    assert any(v.startswith("redis-data:") for v in services["redis"]["volumes"])
    assert any(v.startswith("minio-data:") for v in services["minio"]["volumes"])


def test_services_get_only_variables_they_read(config: dict[str, Any]) -> None:
    """A misspelt variable would be ignored silently (`extra="ignore"`): catch it here."""
    for name in (*PYTHON_SERVICES, "frontend"):
        unknown = set(config["services"][name]["environment"]) - known_vars()
        assert not unknown, f"{name}: {sorted(unknown)} is read by no settings class"


def redis_option(command: list[str], name: str) -> str:
    """The value after `name` in a redis-server command line."""
    return command[command.index(name) + 1]


def test_cache_and_queue_have_redis_budgets_of_their_own(config: dict[str, Any]) -> None:
    """Cache pressure can never evict or block the job stream: two instances, two policies."""
    services = config["services"]
    queue, cache = services["redis"]["command"], services["redis-cache"]["command"]
    assert redis_option(queue, "--maxmemory-policy") == "noeviction"
    assert redis_option(queue, "--appendonly") == "yes"
    assert redis_option(cache, "--maxmemory-policy") == "allkeys-lru"
    assert redis_option(cache, "--maxmemory") == env_example()["REDIS_CACHE_MAXMEMORY"]
    assert (redis_option(cache, "--save"), redis_option(cache, "--appendonly")) == ("", "no")
    assert "volumes" not in services["redis-cache"], "the cache keeps nothing across restarts"
    password = env_example()["REDIS_PASSWORD"]
    for command in (queue, cache):
        assert redis_option(command, "--requirepass") == password
    gateway = services["gateway"]
    cache_url = urlsplit(gateway["environment"]["GATEWAY_CACHE_REDIS_URL"])
    assert (cache_url.hostname, cache_url.password) == ("redis-cache", password)
    assert gateway["depends_on"]["redis-cache"] == {"condition": "service_healthy"}
    for name in PYTHON_SERVICES:
        env = services[name]["environment"]
        assert urlsplit(env["REDIS_URL"]).hostname == "redis", name
        if name != "gateway":
            assert "GATEWAY_CACHE_REDIS_URL" not in env, name


def test_the_catalog_database_is_wired_to_every_service_that_reads_it(config: dict[str, Any]) -> None:
    services = config["services"]
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any("/var/lib/postgresql/data" in str(v) for v in postgres["volumes"])
    password = env_example()["POSTGRES_PASSWORD"]
    assert postgres["environment"]["POSTGRES_PASSWORD"] == password
    for name in ("gateway", "indexer"):
        url = urlsplit(services[name]["environment"]["CATALOG_URL"])
        assert (url.scheme, url.hostname, url.password) == ("postgresql+psycopg", "postgres", password), name
        assert url.path == "/" + env_example()["POSTGRES_DB"]
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
    for name in ("encoder-cpu", "encoder-gpu", "search-0", "search-1"):
        assert "CATALOG_URL" not in services[name]["environment"], name

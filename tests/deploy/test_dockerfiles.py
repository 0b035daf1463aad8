"""The images' Dockerfiles: paths that exist in the build context, non-root users, health checks."""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.helpers import REPO

DOCKER_DIR = REPO / "deploy" / "docker"
DOCKERFILES = sorted(DOCKER_DIR.glob("*.Dockerfile"))


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for instr, args in self.instructions if instr == keyword]


def parse(path: Path) -> list[Stage]:
    """Build stages of a Dockerfile, each with its instructions (continuations joined)."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    stages: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, args = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            words = args.split()
            stages.append(Stage(words[0], words[2] if len(words) == 3 and words[1].upper() == "AS" else None))
        else:
            stages[-1].instructions.append((instr, args.strip()))
    return stages


def dockerignored(path: str) -> bool:
    """`.dockerignore` semantics enough for our patterns: a path is out if it or a parent matches."""
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
        for pattern in patterns
        for prefix in prefixes
    )


def copy_sources(stage: Stage) -> list[str]:
    """Sources of COPY/ADD from the build context (not `--from=` another stage)."""
    sources = []
    for args in stage.all("COPY") + stage.all("ADD"):
        words = shlex.split(args)
        if any(w.startswith("--from=") for w in words):
            continue
        sources += [w for w in words if not w.startswith("--")][:-1]
    return sources


def test_every_service_has_an_image() -> None:
    names = {p.name for p in DOCKERFILES}
    assert {"encoder.Dockerfile", "indexer.Dockerfile", "search.Dockerfile"} <= names
    assert {"gateway.Dockerfile", "frontend.Dockerfile"} <= names


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.stem)
def test_copied_paths_exist_in_the_build_context(dockerfile: Path) -> None:
    for stage in parse(dockerfile):
        for source in copy_sources(stage):
            matches = glob.glob(source, root_dir=REPO)
            assert matches, f"{dockerfile.name}: COPY {source}: no such path in the repository"
            assert not dockerignored(source.rstrip("/")), f"{dockerfile.name}: {source} is in .dockerignore"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.stem)
def test_final_stage_runs_as_non_root_with_a_health_check(dockerfile: Path) -> None:
    final = parse(dockerfile)[-1]
    users = final.all("USER")
    assert users, f"{dockerfile.name}: the final stage sets no USER (it would run as root)"
    assert users[-1].split(":")[0] not in {"root", "0"}
    checks = final.all("HEALTHCHECK")
    assert checks and "NONE" not in checks[-1].upper(), f"{dockerfile.name}: no HEALTHCHECK"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.stem)
def test_python_packages_are_pinned(dockerfile: Path) -> None:
    for stage in parse(dockerfile):
        for run in stage.all("RUN"):
            if "pip install" in run:
                assert "-c constraints.txt" in run, f"{dockerfile.name}: pip install without the pins"


@pytest.mark.parametrize("dockerfile", [p for p in DOCKERFILES if p.stem != "frontend"], ids=lambda p: p.stem)
def test_python_images_start_their_service_on_its_port(dockerfile: Path) -> None:
    final = parse(dockerfile)[-1]
    module = re.search(r'"-m", "([\w.]+)"', final.all("CMD")[-1])
    assert module, f"{dockerfile.name}: CMD is not `python -m <service>`"
    package = REPO / module.group(1).replace(".", "/")
    assert (package / "__main__.py").is_file()
    env = " ".join(final.all("ENV"))
    port_var = re.search(r'"(\w+_PORT)"\]$', final.all("HEALTHCHECK")[-1])
    assert port_var, "the health check names the service's port variable"
    port = re.search(rf"{port_var.group(1)}=(\d+)", env)
    assert port and final.all("EXPOSE") == [port.group(1)]
    assert re.search(r"\w+_HOST=0\.0\.0\.0", env), "a container must listen beyond its loopback"


def entrypoint_shards(**env: str) -> tuple[int, str]:
    """Run the search image's entrypoint; what SEARCH_SHARDS it hands the service."""
    proc = subprocess.run(
        ["sh", str(DOCKER_DIR / "search-entrypoint.sh"), "sh", "-c", 'printf %s "$SEARCH_SHARDS"'],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=10,
    )
    return proc.returncode, proc.stdout


@pytest.mark.parametrize(("shards", "replicas"), [(4, 1), (4, 2), (4, 4), (8, 3), (16, 5)])
def test_search_replicas_own_every_shard_exactly_once(shards: int, replicas: int) -> None:
    owned: list[int] = []
    for index in range(replicas):
        rc, out = entrypoint_shards(
            SEARCH_REPLICA_INDEX=str(index),
            SEARCH_REPLICA_COUNT=str(replicas),
            SEARCH_SHARD_COUNT=str(shards),
        )
        assert rc == 0
        owned += [int(s) for s in out.split(",")]
    assert sorted(owned) == list(range(shards))


def test_search_ordinal_falls_back_to_the_host_name() -> None:
    assert entrypoint_shards(HOSTNAME="search-1", SEARCH_REPLICA_COUNT="2", SEARCH_SHARD_COUNT="4") == (
        0,
        "1,3",
    )


def test_explicit_shards_are_kept_and_bad_layouts_refused() -> None:
    assert entrypoint_shards(SEARCH_SHARDS="0,1", SEARCH_REPLICA_COUNT="2") == (0, "0,1")
    assert entrypoint_shards() == (0, "")  # neither: the service serves every shard
    bad = {"SEARCH_REPLICA_COUNT": "2", "SEARCH_SHARD_COUNT": "4"}
    assert entrypoint_shards(SEARCH_REPLICA_INDEX="2", **bad)[0] == 64
    assert entrypoint_shards(HOSTNAME="search", **bad)[0] == 64
    assert (
        entrypoint_shards(SEARCH_REPLICA_INDEX="0", SEARCH_REPLICA_COUNT="5", SEARCH_SHARD_COUNT="4")[0] == 64
    )

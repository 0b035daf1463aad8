"""The newcomer's map (`docs/architecture.md`) names only paths that exist, and the README links it."""

from __future__ import annotations

import re

from tests.deploy.helpers import REPO

DOC = REPO / "docs" / "architecture.md"
# A backticked repository path: words joined by "/" (a folder ends with one), or a file name with an
# extension; routes (`POST /v1/...`), commands and identifiers do not match.
PATH = re.compile(r"`([A-Za-z_][\w.-]*(?:/[\w.-]+)*/?)`")


def named_paths(text: str) -> list[str]:
    return [p for p in PATH.findall(text) if "/" in p or re.search(r"\.\w+$", p)]


def test_every_path_the_map_names_exists() -> None:
    paths = named_paths(DOC.read_text(encoding="utf-8"))
    assert len(paths) > 50, paths  # the walk through a query and an upload names most modules
    missing = [p for p in paths if not (REPO / p).exists() or (p.endswith("/") and not (REPO / p).is_dir())]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_the_path_pattern_tells_paths_from_routes_and_names() -> None:
    text = "`gateway/app.py` `vi_clip/backends/` `pyproject.toml` `POST /v1/search` `encode_text` `.npy`"
    assert named_paths(text) == ["gateway/app.py", "vi_clip/backends/", "pyproject.toml"]
    assert named_paths("`services/gone.py`") == ["services/gone.py"]


def test_the_readme_links_the_map() -> None:
    assert "(docs/architecture.md)" in (REPO / "README.md").read_text(encoding="utf-8")

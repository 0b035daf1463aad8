"""Every service hands what its lifespan built to routes through the typed aliases of its deps.py:
only the app module (which builds it) and deps.py (which hands it out) touch `app.state`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SERVICES = ["services/encoder", "services/indexer", "services/search", "gateway"]


def _reads_app_state(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "state"
        and isinstance(node.value, ast.Attribute | ast.Name)
        and getattr(node.value, "attr", getattr(node.value, "id", None)) == "app"
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_deps_module_has_annotated_aliases(service: str) -> None:
    tree = ast.parse((REPO / service / "deps.py").read_text(encoding="utf-8"))
    aliases = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Subscript)
        and getattr(node.value.value, "id", None) == "Annotated"
    ]
    assert aliases, f"{service}/deps.py defines no Annotated dependency"


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_app_and_deps_touch_app_state(service: str) -> None:
    offenders = {
        str(path.relative_to(REPO)): lines
        for path in sorted((REPO / service).rglob("*.py"))
        if path.name not in ("app.py", "deps.py") and (lines := _reads_app_state(path))
    }
    assert not offenders, f"read app.state through deps.py instead: {offenders}"


def test_the_check_finds_a_route_reading_app_state(tmp_path: Path) -> None:
    route = tmp_path / "route.py"
    route.write_text("def engine(request):\n    return request.app.state.engine\n", encoding="utf-8")
    assert _reads_app_state(route) == [2]

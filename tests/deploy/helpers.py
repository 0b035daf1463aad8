"""Helpers of the deployment tests: the repository root, YAML documents, known variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deploy.settings_table import env_vars

REPO = Path(__file__).resolve().parents[2]

# Variables read by something other than a settings class: the search image's entrypoint
# (shards from the pod ordinal) and the UI image's nginx template.
DEPLOY_VARS = {"SEARCH_REPLICA_INDEX", "SEARCH_REPLICA_COUNT", "GATEWAY_UPSTREAM"}


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def known_vars() -> set[str]:
    """Every variable the services read: settings classes plus the images' own."""
    return {v.name for v in env_vars()} | DEPLOY_VARS

"""Fixtures of the encoder tests: one seeded tiny checkpoint and the model loaded from it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.encoder import tiny_checkpoint

if TYPE_CHECKING:
    from vi_clip import ViClip


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "vi-tiny-seeded")


@pytest.fixture(scope="session")
def reference(checkpoint: Path) -> ViClip:
    """The model as the model package builds it in-process, to compare the service against."""
    from vi_clip import create_model

    return create_model(str(checkpoint))

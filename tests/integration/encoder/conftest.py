"""One encoder process for the encoder suite, on a seeded tiny checkpoint and a real S3 server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from deploy.harness.ready import wait_ready
from deploy.stack import Ports, Stack, free_port, service_specs
from services.common.settings import StorageSettings
from services.common.storage import open_store
from tests.support.encoder import EncoderProcess, tiny_checkpoint

if TYPE_CHECKING:
    from vi_clip import ViClip

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "vi-tiny-seeded")


@pytest.fixture(scope="session")
def reference(checkpoint: Path) -> ViClip:
    from vi_clip import create_model

    return create_model(str(checkpoint))


@pytest.fixture(scope="session")
def encoder(checkpoint: Path, s3_endpoint: str) -> Iterator[EncoderProcess]:
    bucket = f"enc-{uuid.uuid4().hex[:12]}"
    env = {
        "ENCODER_MODEL": str(checkpoint),
        "ENCODER_MAX_WAIT_MS": "20",
        "STORAGE_S3_ENDPOINT": s3_endpoint,
        "STORAGE_S3_BUCKET": bucket,
    }
    spec = service_specs(Ports(encoder=free_port()), env)[0]
    stack = Stack([spec], cwd=str(REPO), echo=False)
    with stack.running(timeout_s=90):
        wait_ready(spec.url, timeout_s=90)
        store = open_store(StorageSettings(backend="s3", s3_endpoint=s3_endpoint, s3_bucket=bucket))
        yield EncoderProcess(spec.url, stack.procs["encoder"].pid, store)

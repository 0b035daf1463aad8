"""The browser end-to-end setup: the built UI, the whole stack as processes, Debian's Chromium.

Playwright drives the system Chromium (`/usr/bin/chromium`, `apt-get install chromium`);
`playwright install` is never needed. Images come from the ViShapes-vi generator, with a few
scenes of two yellow stars drawn on purpose so the query "hai ngôi sao màu vàng" has answers,
and one shop sign whose words (read by OCR, and in its filename) answer "phở thìn".
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import ConsoleMessage, Error, Page

from deploy.harness.ready import wait_ready
from deploy.stack import Ports, Stack, service_specs
from tests.support.calibrated import calibrated_checkpoint
from vi_clip_train.vishapes.__main__ import generate
from vi_clip_train.vishapes.render import render
from vi_clip_train.vishapes.scene import Scene, SceneObject
from vi_clip_train.vishapes.text_set import draw_sign

REPO = Path(__file__).resolve().parents[2]
CHECKPOINT = REPO / "checkpoints" / "vi-tiny-vishapes"
ARTIFACTS = REPO / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IMAGE_SIZE = 128  # what `make demo` serves
RANDOM_IMAGES = 36
# Two yellow stars in different places, sizes and backgrounds, sometimes with another shape.
STAR_SCENES = [
    ("white", [("large", "left"), ("large", "right")], None),
    ("grey", [("small", "top-left"), ("small", "bottom-right")], None),
    ("white", [("large", "top"), ("small", "bottom")], ("circle", "blue", "large", "center")),
    ("grey", [("large", "center"), ("large", "top-right")], None),
    ("white", [("small", "left"), ("small", "center")], ("square", "red", "small", "bottom-right")),
    ("white", [("large", "bottom-left"), ("large", "top-right")], None),
]


SIGN_TEXT = "Phở Thìn"
SIGN_NAME = "tiem-pho-thin.png"  # the sign's words are in its name too, whatever OCR reads of it


@dataclass(frozen=True)
class UploadSet:
    files: list[Path]  # loose images, plus one zip and one broken file
    image_count: int  # images the server should accept
    star_names: frozenset[str]  # file names of the two-yellow-star scenes
    broken_name: str
    image_size: int


@dataclass(frozen=True)
class UiStack:
    url: str
    api_key: str


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (CI installs it when absent)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 860}, "locale": "vi-VN"}


@pytest.fixture(scope="session")
def frontend_dist() -> Path:
    """The built UI; `make frontend-build` is incremental, so this is quick when it is current."""
    make = ["make", "-s", "-C", str(REPO), "-f", "Makefile.frontend", "frontend-build"]
    subprocess.run(make, check=True, timeout=600)
    dist = REPO / "frontend" / "dist"
    assert (dist / "index.html").is_file()
    return dist


def _two_star_scene(spec: tuple[str, list[tuple[str, str]], tuple[str, str, str, str] | None]) -> Scene:
    background, stars, other = spec
    objects = [SceneObject("star", "yellow", size, position) for size, position in stars]
    if other:
        objects.append(SceneObject(*other))
    return Scene(background, tuple(objects))


@pytest.fixture(scope="session")
def upload_set(tmp_path_factory: pytest.TempPathFactory) -> UploadSet:
    root = tmp_path_factory.mktemp("vishapes")
    generate(root, {"test": RANDOM_IMAGES}, seed=2024, size=IMAGE_SIZE, workers=1)
    loose = sorted((root / "test" / "images").glob("*.png"))
    stars = []
    for i, spec in enumerate(STAR_SCENES):
        path = root / f"sao-vang-{i}.png"
        render(_two_star_scene(spec), IMAGE_SIZE, np.random.default_rng(i)).save(path)
        stars.append(path)
    # Half the star scenes travel in a zip, to cover archives too.
    archive = root / "sao-vang.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in stars[::2]:
            zf.write(path, path.name)
    broken = root / "hong.jpg"
    broken.write_bytes(b"this is not an image")
    return UploadSet(
        files=[*loose, *stars[1::2], archive, broken],
        image_count=len(loose) + len(stars),
        star_names=frozenset(p.name for p in stars),
        broken_name=broken.name,
        image_size=IMAGE_SIZE,
    )


@pytest.fixture(scope="session")
def sign_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blue circle under a shop sign reading "Phở Thìn": words that the shape model was never
    taught to read, so only the keyword index (OCR text, filename) finds it by them."""
    rng = np.random.default_rng(7)
    scene = Scene("white", (SceneObject("circle", "blue", "large", "center"),))
    path = tmp_path_factory.mktemp("sign") / SIGN_NAME
    draw_sign(render(scene, 2 * IMAGE_SIZE, rng), SIGN_TEXT, rng).save(path)
    return path


@pytest.fixture(scope="session")
def ui_stack(
    frontend_dist: Path, redis_url: str, tmp_path_factory: pytest.TempPathFactory, upload_set: UploadSet
) -> Iterator[UiStack]:
    """Every service as a process on free ports, local storage in a temporary folder, API keys on;
    the encoder serves the demo checkpoint with its relevance calibration."""
    if not (CHECKPOINT / "config.json").is_file():
        pytest.fail(f"the demo checkpoint {CHECKPOINT} is missing: run `make train-demo` first")
    data = tmp_path_factory.mktemp("stack")
    checkpoint = calibrated_checkpoint()
    api_key = secrets.token_urlsafe(18)
    env = {
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(data / "storage"),
        "CATALOG_URL": f"sqlite:///{data / 'catalog.db'}",
        "INDEXER_DATA_DIR": str(data / "indexer"),
        "INDEXER_QUEUE_PATH": str(data / "indexer-queue.sqlite"),
        "REDIS_URL": redis_url,
        "ENCODER_MODEL": str(checkpoint),
        "ENCODER_DEVICE": "cpu",
        "GATEWAY_API_KEYS": api_key,
        "GATEWAY_FRONTEND_DIR": str(frontend_dist),
    }
    specs = service_specs(Ports.free(), env)
    stack = Stack(specs, cwd=str(REPO), echo=bool(os.environ.get("E2E_VERBOSE")))
    with stack.running(timeout_s=180):
        url = specs[-1].url
        wait_ready(url, timeout_s=180)
        yield UiStack(url=url, api_key=api_key)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Every console error and uncaught page error; a browser test ends by asserting there were none."""
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(f"console: {msg.text} ({msg.location.get('url', '')})")

    def on_page_error(err: Error) -> None:
        errors.append(f"page error: {err.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return errors

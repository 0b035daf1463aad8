"""The catalog in a real browser: photos with EXIF dates in two months, browsed by date under month
headers, one put into a new album from the detail view, then searches narrowed to one month and to
the album; and a search ordered by date taken, restored from its URL.

Runs on the stack of `conftest.py` (started once for the browser tests); its folders are deleted
at the end, whatever happens, so the other browser tests see only their own images.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.photos import camera_photo

if TYPE_CHECKING:  # fixtures come from conftest.py; only their types are needed here
    from tests.e2e.conftest import UiStack

pytestmark = pytest.mark.slow
expect.set_options(timeout=30_000)
FOLDER = "Ảnh theo ngày e2e"
INDEXING_TIMEOUT_MS = 180_000
# name: (date taken as the camera writes it, its offset, camera model)
PHOTOS = {
    "he-2023-a.jpg": ("2023:07:14 10:05:00", "+07:00", "EOS R6"),
    "he-2023-b.jpg": ("2023:07:28 17:40:00", None, "EOS R6"),
    "xuan-2024-a.jpg": ("2024:03:02 08:00:00", "+07:00", "iPhone 13"),
    "xuan-2024-b.jpg": ("2024:03:20 19:30:00", None, "iPhone 13"),
    "khong-ngay.jpg": (None, None, None),
}
JULY = {"he-2023-a.jpg", "he-2023-b.jpg"}
MAKES = {"EOS R6": "Canon", "iPhone 13": "Apple"}
HUE = (16.4637, 107.5909)


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp_path = tmp_path_factory.mktemp("photos")
    paths = []
    for seed, (name, (taken, offset, model)) in enumerate(PHOTOS.items()):
        data = camera_photo(
            seed,
            taken=taken,
            offset=offset,
            make=MAKES.get(model or ""),
            model=model,
            gps=HUE if name == "he-2023-a.jpg" else None,
            size=(160, 120),
        )
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(path)
    return paths


@pytest.fixture
def api(ui_stack: UiStack) -> Iterator[httpx.Client]:
    """The public API with the stack's key; this module's folders are deleted afterwards, passed or failed."""
    headers = {"X-API-Key": ui_stack.api_key}
    with httpx.Client(base_url=ui_stack.url + "/api/v1", headers=headers, timeout=60) as client:
        yield client
        for item in client.get("/collections", params={"limit": 1000}).json()["items"]:
            if item["name"].startswith(FOLDER):
                client.delete(f"/collections/{item['id']}").raise_for_status()


def _indexed_folder(api: httpx.Client, name: str, photos: list[Path]) -> str:
    """A folder holding `photos`, uploaded and indexed through the API."""
    folder = api.post("/collections", json={"name": name}).raise_for_status().json()["id"]
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in photos]
    job_id = api.post(f"/collections/{folder}/images", files=files).raise_for_status().json()["job_id"]
    deadline = time.monotonic() + INDEXING_TIMEOUT_MS / 1000
    while (job := api.get(f"/jobs/{job_id}").json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
    assert job["status"] == "done", job
    return str(folder)


def _shown(page: Page) -> set[str]:
    return {name.strip() for name in page.locator(".grid .result-name").all_inner_texts()}


def test_browse_by_date_album_from_detail_and_filtered_search(
    page: Page,
    ui_stack: UiStack,
    photos: list[Path],
    api: httpx.Client,
    artifacts: Path,
    console_errors: list[str],
) -> None:
    page.add_init_script(f"localStorage.setItem('timanh.apiKey', {json.dumps(ui_stack.api_key)})")
    page.goto(ui_stack.url + "/")
    page.get_by_role("textbox", name="Tên thư mục mới").fill(FOLDER)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=re.compile(rf"^{FOLDER}\s*0 ảnh$"))).to_have_attribute(
        "aria-pressed", "true"
    )
    page.locator("input[type=file][accept*=zip]").set_input_files(photos)
    expect(page.get_by_text(f"Xong: {len(photos)} ảnh đã sẵn sàng để tìm.")).to_be_visible(
        timeout=INDEXING_TIMEOUT_MS
    )

    # No query: the folder by date, newest month first, the undated photo last.
    browse = page.get_by_role("region", name="Duyệt theo ngày")
    months = browse.get_by_role("heading", level=3)
    expect(months).to_have_text(["Tháng 3 năm 2024", "Tháng 7 năm 2023", "Không rõ ngày chụp"])
    july = browse.get_by_role("region", name="Tháng 7 năm 2023")
    expect(july.locator(".result-name")).to_have_text(["he-2023-b.jpg", "he-2023-a.jpg"])
    expect(browse.get_by_role("region", name="Không rõ ngày chụp").locator(".result-name")).to_have_text(
        ["khong-ngay.jpg"]
    )
    page.screenshot(path=str(artifacts / "browse-by-date.png"), full_page=True)

    # The detail of a July photo: its metadata, then a new album made from there.
    july.get_by_role("button", name="Xem ảnh he-2023-a.jpg").click()
    dialog = page.get_by_role("dialog", name="he-2023-a.jpg")
    expect(dialog.get_by_text("10:05, 14 tháng 7, 2023 (UTC+07:00)")).to_be_visible()
    expect(dialog.get_by_text("Canon EOS R6")).to_be_visible()
    expect(dialog.get_by_text("160 × 120 px")).to_be_visible()
    place = dialog.get_by_role("link", name="16.46370, 107.59090")
    expect(place).to_have_attribute("href", re.compile(r"openstreetmap\.org/\?mlat=16\.46"))
    expect(dialog.get_by_text("Ảnh chưa thuộc album nào.")).to_be_visible()
    dialog.get_by_role("textbox", name="Tên album mới").fill("Hè 2023")
    dialog.get_by_role("button", name="Tạo album và thêm ảnh").click()
    expect(dialog.get_by_role("button", name="Bỏ ảnh khỏi album Hè 2023")).to_be_visible()
    dialog.get_by_role("textbox", name="Thêm nhãn").fill("Biển")
    dialog.get_by_role("textbox", name="Thêm nhãn").press("Enter")
    expect(dialog.get_by_role("button", name="Bỏ nhãn biển")).to_be_visible()
    page.screenshot(path=str(artifacts / "detail-album.png"))
    dialog.get_by_role("button", name="Đóng").click()
    expect(dialog).to_be_hidden()

    # A search over every photo, then narrowed to July 2023 by dates taken.
    page.get_by_role("searchbox", name="Mô tả ảnh cần tìm").fill("ảnh")
    page.keyboard.press("Enter")
    page.get_by_label("Độ giống tối thiểu").select_option(label="Không giới hạn")
    expect(page.locator(".grid .result")).to_have_count(len(photos))
    page.get_by_label("Từ ngày").fill("2023-07-01")
    expect(page).to_have_url(re.compile(r"[?&]from=2023-07-01(&|$)"))
    page.get_by_label("Đến ngày").fill("2023-07-31")
    expect(page).to_have_url(re.compile(r"[?&]to=2023-07-31(&|$)"))
    expect(page.locator(".grid .result")).to_have_count(len(JULY))
    assert _shown(page) == JULY
    page.screenshot(path=str(artifacts / "search-one-month.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "search-one-month-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 860})

    # Filters cleared in one click; then the album alone.
    page.get_by_role("button", name="Xoá bộ lọc").click()
    expect(page.locator(".grid .result")).to_have_count(len(photos))
    page.get_by_label("Album", exact=True).select_option(label="Hè 2023 (1)")
    expect(page.locator(".grid .result")).to_have_count(1)
    assert _shown(page) == {"he-2023-a.jpg"}
    page.get_by_label("Nhãn", exact=True).select_option(label="biển")
    expect(page.locator(".grid .result")).to_have_count(1)
    page.screenshot(path=str(artifacts / "search-album.png"), full_page=True)

    assert console_errors == []


def test_search_ordered_by_date_taken_from_its_url(
    page: Page, ui_stack: UiStack, photos: list[Path], api: httpx.Client, console_errors: list[str]
) -> None:
    folder = _indexed_folder(api, f"{FOLDER} (sắp xếp)", photos)
    page.add_init_script(f"localStorage.setItem('timanh.apiKey', {json.dumps(ui_stack.api_key)})")
    page.goto(ui_stack.url + "/?" + urlencode({"q": "ảnh", "c": folder, "min": "all", "sort": "taken_at"}))
    expect(page.get_by_label("Sắp xếp", exact=True)).to_have_value("taken_at")
    # The same matches as by relevance, newest first by date taken, the undated one last.
    expect(page.locator(".grid .result-name")).to_have_text(
        ["xuan-2024-b.jpg", "xuan-2024-a.jpg", "he-2023-b.jpg", "he-2023-a.jpg", "khong-ngay.jpg"]
    )
    page.get_by_label("Sắp xếp", exact=True).select_option(label="Liên quan nhất")
    expect(page).not_to_have_url(re.compile(r"[?&]sort="))
    expect(page.locator(".grid .result")).to_have_count(len(PHOTOS))
    assert console_errors == []

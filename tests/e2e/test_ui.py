"""The UI in a real browser against the whole stack: a folder, an upload, a search, a similar search;
then a hybrid search that finds an image by its words, a refinement by example, and a region search.

Fails on any browser console error or uncaught page error. Screenshots go to
`test-artifacts/e2e/`; with TIMANH_UPDATE_SCREENSHOTS=1 the search page also goes to
`docs/screenshots/search.png`, the README's picture.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import Page, Request, Response, expect

from services.common.catalog.folding import keyword_tokens

if TYPE_CHECKING:  # fixtures come from conftest.py; only their types are needed here
    from tests.e2e.conftest import UiStack, UploadSet

pytestmark = pytest.mark.slow
# The first search loads the model's text tower on a shared CI CPU: give every expectation time.
expect.set_options(timeout=30_000)
REPO = Path(__file__).resolve().parents[2]
QUERY = "hai ngôi sao màu vàng"
OUT_OF_DOMAIN = "một con mèo đang ngủ trên ghế sofa"  # nothing like it in ViShapes-vi
TEXT_QUERY = "phở thìn"  # the sign's words; nothing a shape model knows
TEXT_FOLDER = "Chữ và vùng e2e"
README_SCREENSHOT = REPO / "docs" / "screenshots" / "search.png"
INDEXING_TIMEOUT_MS = 180_000
DETAIL_IMAGE_LOADED = """() => {
    const img = document.querySelector('.detail-image img');
    return img !== null && img.complete && img.naturalWidth > 0;
}"""


def _thumbnails_loaded(page: Page, count: int) -> None:
    """Wait until the first `count` thumbnails have really decoded (not just been requested)."""
    page.wait_for_function(
        """n => {
            const imgs = [...document.querySelectorAll('.grid img')].slice(0, n);
            return imgs.length === n && imgs.every(i => i.complete && i.naturalWidth > 0);
        }""",
        arg=count,
    )


def _query_param(page: Page, name: str) -> str | None:
    values = parse_qs(urlparse(page.url).query).get(name)
    return values[0] if values else None


def test_collection_upload_search_detail_and_similar(
    page: Page, ui_stack: UiStack, upload_set: UploadSet, artifacts: Path, console_errors: list[str]
) -> None:
    page.add_init_script(f"localStorage.setItem('timanh.apiKey', {json.dumps(ui_stack.api_key)})")
    page.goto(ui_stack.url + "/")
    expect(page.get_by_role("heading", name="Thư mục ảnh")).to_be_visible()
    expect(page).to_have_title("Tìm Ảnh")

    # A new folder, selected as soon as it exists.
    page.get_by_role("textbox", name="Tên thư mục mới").fill("ViShapes-vi e2e")
    page.keyboard.press("Enter")
    folder = page.get_by_role("button", name=re.compile(r"^ViShapes-vi e2e\s*0 ảnh$"))
    expect(folder).to_have_attribute("aria-pressed", "true")
    collection_id = _query_param(page, "c")
    assert collection_id

    # Upload images, a zip of images and one broken file; watch both progress bars finish.
    page.locator("input[type=file][accept*=zip]").set_input_files(upload_set.files)
    indexing = page.get_by_role("progressbar", name="Tiến độ lập chỉ mục")
    expect(indexing).to_have_attribute("aria-valuenow", "100", timeout=INDEXING_TIMEOUT_MS)
    expect(page.get_by_text(f"Xong: {upload_set.image_count} ảnh đã sẵn sàng để tìm.")).to_be_visible(
        timeout=INDEXING_TIMEOUT_MS
    )
    rejected = page.locator(".problems li").filter(has_text=upload_set.broken_name)
    expect(rejected).to_contain_text("Không phải ảnh")
    expect(
        page.get_by_role("button", name=re.compile(rf"^ViShapes-vi e2e\s*{upload_set.image_count} ảnh$"))
    ).to_be_visible()
    page.screenshot(path=str(artifacts / "upload.png"))

    # Search in Vietnamese: the two-yellow-star scenes come first.
    box = page.get_by_role("searchbox", name="Mô tả ảnh cần tìm")
    box.fill(QUERY)
    box.press("Enter")
    cards = page.locator(".grid .result")
    # Strong matches only by default; the ranking below is checked over every image.
    expect(cards.first.or_(page.get_by_text("Không có ảnh nào khớp rõ với mô tả"))).to_be_visible()
    threshold = page.get_by_label("Độ giống tối thiểu")
    expect(threshold).to_have_value("auto")
    threshold.select_option(label="Không giới hạn")
    expect(cards.first).to_be_visible()
    assert _query_param(page, "q") == QUERY and _query_param(page, "min") == "all"
    # A first page of 24 out of 42 images: by chance 3.4 of the 6 star scenes would be on it.
    shown = [name.strip() for name in page.locator(".grid .result-name").all_inner_texts()]
    ranks = [i for i, name in enumerate(shown) if name in upload_set.star_names]
    assert ranks and ranks[0] < 3, f"no two-yellow-star scene among the first three of {shown}"
    assert len(ranks) >= 5, f"only {len(ranks)} of the star scenes on the first page: {shown}"
    expect(page.get_by_test_id("summary")).to_contain_text(re.compile(r"\d+ ảnh · \d+ ms"))
    _thumbnails_loaded(page, min(8, cards.count()))
    page.mouse.move(0, 0)  # no hover effect in the picture
    if os.environ.get("TIMANH_UPDATE_SCREENSHOTS"):  # the README's picture, refreshed on request
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(README_SCREENSHOT))
    page.screenshot(path=str(artifacts / "search.png"), full_page=True)

    # The detail of the best match, then images similar to it.
    first_name = shown[0]
    cards.first.get_by_role("button", name=re.compile(r"^Xem ảnh ")).click()
    dialog = page.get_by_role("dialog", name=first_name)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text(f"{upload_set.image_size} × {upload_set.image_size} px")).to_be_visible()
    expect(dialog.get_by_role("link", name="Tải xuống")).to_have_attribute("download", first_name)
    page.wait_for_function(DETAIL_IMAGE_LOADED)
    page.screenshot(path=str(artifacts / "detail.png"))
    dialog.get_by_role("button", name="Ảnh tương tự").click()
    expect(page.get_by_role("heading", name=f"Ảnh tương tự “{first_name}”")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(cards.first).to_be_visible()
    similar = [name.strip() for name in page.locator(".grid .result-name").all_inner_texts()]
    assert first_name not in similar, "an image is not its own similar image"
    assert _query_param(page, "like") and _query_param(page, "q") is None
    _thumbnails_loaded(page, min(8, cards.count()))
    page.screenshot(path=str(artifacts / "similar.png"))

    # Back returns to the detail, then to the text search.
    page.go_back()
    expect(page.get_by_role("dialog", name=first_name)).to_be_visible()
    page.go_back()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(box).to_have_value(QUERY)
    expect(page.get_by_role("heading", name=f"“{QUERY}”")).to_be_visible()

    # Readable on a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    _thumbnails_loaded(page, 2)
    page.screenshot(path=str(artifacts / "search-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 860})

    # Nothing in the folder is like the query: the page says so, the closest images are one click away.
    threshold.select_option(label="Chỉ ảnh khớp rõ")
    box.fill(OUT_OF_DOMAIN)
    box.press("Enter")
    empty = page.get_by_role("status").filter(has_text="Không có ảnh nào khớp rõ với mô tả")
    expect(empty).to_be_visible()
    expect(cards).to_have_count(0)
    page.screenshot(path=str(artifacts / "no-strong-match.png"))
    empty.get_by_role("button", name="Xem các ảnh gần nhất").click()
    expect(cards.first).to_be_visible()
    expect(page.locator(".grid .result.weak")).to_have_count(cards.count())  # every one marked weak
    expect(cards.first.get_by_text("Khớp yếu")).to_be_visible()
    assert _query_param(page, "min") == "all"

    # Deleting the folder asks first, then its images leave the results.
    page.get_by_role("button", name="Xoá thư mục ViShapes-vi e2e").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text(f"cùng {upload_set.image_count} ảnh")
    confirm.get_by_role("button", name="Xoá", exact=True).click()
    expect(page.get_by_role("button", name=re.compile(r"^ViShapes-vi e2e"))).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"[?&]c="))
    expect(page.get_by_text("Chưa có ảnh nào được lập chỉ mục ở đây.")).to_be_visible()

    assert console_errors == []


@pytest.fixture
def text_folder(ui_stack: UiStack) -> Iterator[str]:
    """The folder's name; the folder is deleted afterwards, passed or failed, so the other browser
    tests see only their own images."""
    yield TEXT_FOLDER
    headers = {"X-API-Key": ui_stack.api_key}
    with httpx.Client(base_url=ui_stack.url + "/api/v1", headers=headers, timeout=60) as api:
        for item in api.get("/collections", params={"limit": 1000}).json()["items"]:
            if item["name"] == TEXT_FOLDER:
                api.delete(f"/collections/{item['id']}").raise_for_status()


def _is_api(path: str) -> Callable[[Request | Response], bool]:
    """Matches a request to (or a response from) this path of the public API."""
    return lambda r: urlparse(r.url).path == "/api/v1" + path


def test_hybrid_words_match_refinement_and_region_search(
    page: Page,
    ui_stack: UiStack,
    upload_set: UploadSet,
    sign_image: Path,
    text_folder: str,
    artifacts: Path,
    console_errors: list[str],
) -> None:
    page.add_init_script(f"localStorage.setItem('timanh.apiKey', {json.dumps(ui_stack.api_key)})")
    page.goto(ui_stack.url + "/")
    page.get_by_role("textbox", name="Tên thư mục mới").fill(text_folder)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=re.compile(rf"^{text_folder}\s*0 ảnh$"))).to_have_attribute(
        "aria-pressed", "true"
    )
    shapes = [p for p in upload_set.files if p.suffix == ".png"][:11]
    page.locator("input[type=file][accept*=zip]").set_input_files([*shapes, sign_image])
    expect(page.get_by_text(f"Xong: {len(shapes) + 1} ảnh đã sẵn sàng để tìm.")).to_be_visible(
        timeout=INDEXING_TIMEOUT_MS
    )

    # Hybrid (the default) finds the sign by its words alone: the "chữ" badge, the words marked.
    mode = page.get_by_label("Tìm theo")  # its name also holds the chosen option
    expect(mode).to_have_value("hybrid")
    box = page.get_by_role("searchbox", name="Mô tả ảnh cần tìm")
    box.fill(TEXT_QUERY)
    with page.expect_response(_is_api("/search")) as searched:
        box.press("Enter")
    assert searched.value.ok, searched.value.text()
    cards = page.locator(".grid .result")
    sign = cards.filter(has=page.get_by_role("button", name=f"Xem ảnh {sign_image.name}"))
    expect(sign).to_be_visible()
    expect(sign.locator(".matched-badge")).to_have_text(["chữ"])  # its words matched, not its picture
    expect(sign).not_to_have_class(re.compile(r"\bweak\b"))  # what its words bring is no weak match
    marks = sign.locator(".snippet mark")
    expect(marks.first).to_be_visible()
    marked = {t for text in marks.all_inner_texts() for t in keyword_tokens(text)}
    assert marked & set(keyword_tokens(TEXT_QUERY)), f"marked {marked}, not a query word"
    page.screenshot(path=str(artifacts / "hybrid-words.png"), full_page=True)

    # By words only, the sign is the one answer; back to hybrid.
    mode.select_option(label="Theo chữ")
    expect(page).to_have_url(re.compile(r"[?&]mode=keyword(&|$)"))
    expect(cards).to_have_count(1)
    expect(sign).to_be_visible()
    mode.select_option(label="Kết hợp")
    expect(page).not_to_have_url(re.compile(r"[?&]mode="))
    expect(sign).to_be_visible()

    # More like the sign: the results come from /search/refine, with the query and the chip.
    with page.expect_response(_is_api("/search/refine")) as refined:
        sign.get_by_role("button", name="Thêm ảnh như thế này").click()
    response: Response = refined.value
    assert response.ok, f"{response.status} {response.text()}"
    sign_id = _query_param(page, "more")
    assert sign_id
    asked = response.request.post_data_json or {}
    assert asked["query"] == TEXT_QUERY and asked["positive_ids"] == [sign_id], asked
    chips = page.get_by_role("list", name="Tinh chỉnh tìm kiếm")
    expect(chips.get_by_text(f"Thêm như: {sign_image.name}")).to_be_visible()
    expect(cards.first).to_be_visible()
    expect(sign).to_have_count(0)  # an example is not one of its own results
    page.screenshot(path=str(artifacts / "refined.png"), full_page=True)

    # A region of a result's picture, dragged in the detail view, then images like that region.
    name = cards.first.locator(".result-name").inner_text().strip()
    cards.first.get_by_role("button", name=re.compile(r"^Xem ảnh ")).click()
    dialog = page.get_by_role("dialog", name=name)
    page.wait_for_function(DETAIL_IMAGE_LOADED)
    dialog.get_by_role("button", name="Tìm theo vùng").click()
    found = dialog.get_by_role("button", name="Tìm ảnh giống vùng này")
    expect(found).to_be_disabled()
    shown = dialog.get_by_role("img", name=name).bounding_box()
    assert shown

    def at(fx: float, fy: float) -> tuple[float, float]:
        """A point of the picture as displayed, from fractions of its size."""
        assert shown
        return shown["x"] + fx * shown["width"], shown["y"] + fy * shown["height"]

    page.mouse.move(*at(0.25, 0.25))
    page.mouse.down()
    page.mouse.move(*at(0.75, 0.75), steps=8)
    page.mouse.up()
    expect(dialog.get_by_test_id("region-box")).to_be_visible()
    page.screenshot(path=str(artifacts / "region.png"))
    with page.expect_response(_is_api("/search/image")) as by_region:
        found.click()
    assert by_region.value.ok, f"{by_region.value.status} {by_region.value.text()}"
    region = (by_region.value.request.post_data_json or {})["region"]
    assert region == pytest.approx({"x": 0.25, "y": 0.25, "width": 0.5, "height": 0.5}, abs=0.01)
    expect(page.get_by_role("heading", name=f"Ảnh giống vùng đã chọn trong “{name}”")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(cards.first).to_be_visible()
    page.screenshot(path=str(artifacts / "region-results.png"), full_page=True)

    assert console_errors == []

"""What a new user of `make demo` sees: the demo's own images, seeded the demo's way, searched
through the public API of the running services with the committed demo checkpoint.

Short queries, the README's example included, must find what they name on the first page, and
a query about something absent from the pictures with `min_score: "auto"` must answer with no
result and say why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.demo import ensure_images, seed_collection
from deploy.harness.fullstack import DEMO_CHECKPOINT, full_stack
from vi_clip.text import strip_diacritics
from vi_clip_train.vishapes.queries import ObjectQuery, Query, satisfies
from vi_clip_train.vishapes.scene import Scene

DEMO_IMAGES = 600  # deploy/demo.py's default
README_QUERY = "hai ngôi sao màu vàng"
SHORT_QUERIES = {
    README_QUERY: Query((ObjectQuery("star", "yellow", count=2),)),
    "ngôi sao màu vàng": Query((ObjectQuery("star", "yellow"),)),
    "hình tròn màu đỏ": Query((ObjectQuery("circle", "red"),)),
    "trái tim hồng": Query((ObjectQuery("heart", "pink"),)),
    "hình vuông màu xanh dương": Query((ObjectQuery("square", "blue"),)),
}
OUT_OF_DOMAIN = ("một con mèo đang ngủ trên ghế sofa", "bãi biển lúc hoàng hôn", "một bát phở bò")


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str
) -> Iterator[tuple[httpx.Client, dict[str, Scene]]]:
    assert (DEMO_CHECKPOINT / "calibration.json").is_file(), "the demo checkpoint ships its calibration"
    folder = tmp_path_factory.mktemp("demo") / "vishapes-vi"
    images = ensure_images(folder, DEMO_IMAGES, 128)
    scenes = {}
    for line in (folder / "test" / "scenes.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        scenes[Path(row["image"]).name] = Scene.from_dict(row["scene"])
    env = {"STORAGE_S3_ENDPOINT": s3_endpoint, "STORAGE_S3_BUCKET": "demo-search"}
    with full_stack(env) as running, httpx.Client(base_url=running.gateway, timeout=60) as api:
        seed_collection(api, images)
        yield api, scenes


def _search(api: httpx.Client, query: str, **extra: object) -> dict[str, object]:
    resp = api.post("/api/v1/search", json={"query": query, "top_k": 10, **extra})
    assert resp.status_code == 200, resp.text
    body: dict[str, object] = resp.json()
    return body


def _has_colour(scene: Scene, colour: str) -> bool:
    return any(o.colour == colour for o in scene.objects)


@pytest.mark.parametrize("typed", ["accented", "plain"])
def test_short_queries_find_their_pictures_on_the_first_page(
    demo: tuple[httpx.Client, dict[str, Scene]], typed: str
) -> None:
    """Every short query (the README's example included) has a right picture among the first ten
    of 600, and the first five all carry the colour it names."""
    api, scenes = demo
    for text, query in SHORT_QUERIES.items():
        body = _search(api, text if typed == "accented" else strip_diacritics(text))
        results = body["results"]
        assert isinstance(results, list) and len(results) == 10, body
        found = [scenes[r["filename"]] for r in results]
        assert any(satisfies(f, query) for f in found), (text, [r["filename"] for r in results])
        colour = query.objects[0].colour
        assert colour is not None and all(_has_colour(f, colour) for f in found[:5]), (text, found[:5])
        assert results[0]["match"] == "strong", (text, results[0])


@pytest.mark.parametrize("typed", ["accented", "plain"])
def test_the_readme_example_is_answered_first(
    demo: tuple[httpx.Client, dict[str, Scene]], typed: str
) -> None:
    """The README's example, "hai ngôi sao màu vàng", as typed with or without accents: the top
    picture of 600 holds exactly two yellow stars."""
    api, scenes = demo
    body = _search(api, README_QUERY if typed == "accented" else strip_diacritics(README_QUERY))
    results = body["results"]
    assert isinstance(results, list) and results
    top = scenes[results[0]["filename"]]
    assert satisfies(top, SHORT_QUERIES[README_QUERY]), (results[0]["filename"], top)


def test_the_readme_example_with_auto_threshold_keeps_its_answer(
    demo: tuple[httpx.Client, dict[str, Scene]],
) -> None:
    """With `min_score: "auto"` the README's example keeps its right picture: the threshold
    drops no right answer, only what is far from the query."""
    api, scenes = demo
    body = _search(api, README_QUERY, min_score="auto")
    results = body["results"]
    assert isinstance(results, list) and results
    assert any(satisfies(scenes[r["filename"]], SHORT_QUERIES[README_QUERY]) for r in results)
    assert all(r["match"] == "strong" for r in results)


@pytest.mark.parametrize("query", OUT_OF_DOMAIN)
def test_nothing_matches_a_query_about_something_absent(
    demo: tuple[httpx.Client, dict[str, Scene]], query: str
) -> None:
    api, _ = demo
    body = _search(api, query, min_score="auto")
    assert body["results"] == []
    assert body["empty_reason"] == "no_strong_match"
    threshold, best = body["relevance_threshold"], body["best_score"]
    assert isinstance(threshold, float) and isinstance(best, float) and best < threshold
    closest = _search(api, query)["results"]  # the closest images stay one request away
    assert isinstance(closest, list) and closest and all(r["match"] == "weak" for r in closest)

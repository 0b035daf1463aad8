"""Hybrid search, exclusions, refinement and region search through the running system.

The collection holds 240 ViShapes-vi scenes (their ground truth from `scenes.jsonl`) and 8
pictures with a shop sign drawn on them (`vi_clip_train.vishapes.text_set`), read by the
indexer's Tesseract OCR after indexing; the demo checkpoint serves. Ground truth decides every
assertion: which images show a red object, which carry "Phở Thìn".
"""

from __future__ import annotations

import json
import time

import httpx
import numpy as np
import pytest

from deploy.harness.api import accepted_upload, wait_job
from services.common.catalog.folding import fold_text
from vi_clip_train.vishapes.__main__ import generate
from vi_clip_train.vishapes.queries import ObjectQuery, Query, satisfies
from vi_clip_train.vishapes.render import render
from vi_clip_train.vishapes.scene import Scene, sample_scene
from vi_clip_train.vishapes.text_set import draw_sign

SCENES = 240
# One big picture carries no sign; the rest are signs Tesseract reads whole at this seed.
SIGNS = ("Phở Thìn", "Phở Thìn", "Bánh mì", "Nhà thuốc", "Cà phê sữa đá", None, "Phở Thìn", "Bánh mì")


@pytest.fixture(scope="module")
def world(api: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A collection of shapes and signs: its id, each image's scene, and each image's sign."""
    folder = tmp_path_factory.mktemp("hybrid")
    generate(folder, {"test": SCENES}, seed=23, size=64, workers=1)
    rows = [json.loads(line) for line in (folder / "test" / "scenes.jsonl").read_text().splitlines()]
    paths = [folder / "test" / r["image"] for r in rows]
    scenes = {p.name: Scene.from_dict(r["scene"]) for p, r in zip(paths, rows, strict=True)}
    signs: dict[str, str] = {}
    rng = np.random.default_rng(3)
    for i, sign in enumerate(SIGNS):
        path = folder / f"bien-{i}.png"
        scene = sample_scene(rng)
        picture = render(scene, 480, rng)
        (draw_sign(picture, sign, rng) if sign else picture).save(path)
        paths.append(path)
        scenes[path.name] = scene
        if sign:
            signs[path.name] = sign
    cid = str(api.post("/api/v1/collections", json={"name": "Chữ và hình"}).json()["id"])
    body = accepted_upload(api, cid, paths)
    assert wait_job(api, str(body["job_id"]))["status"] == "done"
    ids = {a["filename"]: a["image_id"] for a in body["accepted"]}
    by_id = {ids[name]: name for name in ids}
    # OCR runs beside the job: wait until every sign is searchable by its words
    deadline = time.monotonic() + 120
    for sign in {s for s in SIGNS if s}:
        while True:
            found = _search(api, query=sign, collection_id=cid, mode="keyword", top_k=50)["results"]
            read = {r["image_id"] for r in found if fold_text(sign) in fold_text(r["text_match"]["snippet"])}
            if len(read) >= SIGNS.count(sign):
                break
            assert time.monotonic() < deadline, f"OCR text of {sign!r} never became searchable"
            time.sleep(0.5)
    return {
        "cid": cid,
        "scene": {iid: scenes[name] for iid, name in by_id.items()},
        "sign": {iid: signs.get(name) for iid, name in by_id.items()},
    }


def _search(api: httpx.Client, path: str = "/api/v1/search", **body: object) -> dict:
    resp = api.post(path, json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_hybrid_finds_a_picture_by_its_words_and_says_why(api: httpx.Client, world: dict) -> None:
    signs = world["sign"]
    for query in ("phở thìn", "PHO THIN"):
        body = _search(api, query=query, collection_id=world["cid"], top_k=10)
        assert body["mode"] == "hybrid"
        top = body["results"][0]
        assert signs[top["image_id"]] == "Phở Thìn", [
            (signs[r["image_id"]], r["score"], r["matched"], r["text_match"]) for r in body["results"][:5]
        ]
        assert "text" in top["matched"]
        snippet, spans = top["text_match"]["snippet"], top["text_match"]["highlights"]
        assert "pho" in fold_text(snippet) and spans
        assert {fold_text(snippet[a:b]) for a, b in spans} <= {"pho", "thin", "bien", "hieu"}
    # More words: the pictures holding the most of them lead, though rank fusion may let a picture
    # holding one rarer word ("bien" of the filenames here) and scoring better by image among them.
    more = _search(api, query="biển hiệu Phở Thìn", collection_id=world["cid"], top_k=10)["results"]
    assert {r["image_id"] for r in more} >= {i for i, s in signs.items() if s == "Phở Thìn"}
    # every result carries its cosine, and dense-only ranking does not put the sign first
    dense = _search(api, query="phở thìn", collection_id=world["cid"], top_k=3, mode="dense")
    assert dense["mode"] == "dense" and all(r["matched"] != ["text"] for r in dense["results"])
    assert sum(signs[r["image_id"]] == "Phở Thìn" for r in dense["results"]) < 3
    keyword = _search(api, query="nha thuoc", collection_id=world["cid"], mode="keyword")
    assert {signs[r["image_id"]] for r in keyword["results"]} == {"Nhà thuốc"}
    assert len(keyword["results"]) == SIGNS.count("Nhà thuốc")
    assert all(r["match"] is None and r["matched"] == ["text"] for r in keyword["results"])
    nothing = _search(api, query="xyzzy quux", collection_id=world["cid"], mode="keyword")
    assert nothing["results"] == [] and nothing["empty_reason"] == "no_text_match"


def test_shape_queries_lose_nothing_to_hybrid(api: httpx.Client, world: dict) -> None:
    """A query no picture's words answer ranks as dense search does."""
    for query in ("ngôi sao màu vàng", "hình tròn màu đỏ", "hình vuông"):
        dense = _search(api, query=query, collection_id=world["cid"], top_k=10, mode="dense")
        hybrid = _search(api, query=query, collection_id=world["cid"], top_k=10)
        assert [r["image_id"] for r in hybrid["results"]] == [r["image_id"] for r in dense["results"]]


CASES = [
    ("ngôi sao, không có màu đỏ", "ngôi sao", "màu đỏ", ObjectQuery(colour="red")),
    ("hình tròn trừ màu xanh dương", "hình tròn", "màu xanh dương", ObjectQuery(colour="blue")),
    ('hình -"ngôi sao"', "hình", "ngôi sao", ObjectQuery(shape="star")),
    ("màu vàng, không có hình tròn", "màu vàng", "hình tròn", ObjectQuery(shape="circle")),
]


@pytest.mark.parametrize(("typed", "searched", "excluded", "truth"), CASES)
def test_an_excluded_phrase_leaves_its_images_out_of_the_top_10(
    api: httpx.Client, world: dict, typed: str, searched: str, excluded: str, truth: ObjectQuery
) -> None:
    scenes = world["scene"]
    plain = _search(api, query=searched, collection_id=world["cid"], top_k=10)
    assert any(satisfies(scenes[r["image_id"]], Query((truth,))) for r in plain["results"]), (
        "the case shows nothing: no top-10 image of the plain query matches the excluded phrase"
    )
    body = _search(api, query=typed, collection_id=world["cid"], top_k=10)
    assert body["searched"] == searched and body["excluded"] == [excluded]
    assert len(body["results"]) == 10
    leaked = [r["image_id"] for r in body["results"] if satisfies(scenes[r["image_id"]], Query((truth,)))]
    assert leaked == []
    # the same through the API's `exclude`
    given = _search(api, query=searched, exclude=[excluded], collection_id=world["cid"], top_k=10)
    assert [r["image_id"] for r in given["results"]] == [r["image_id"] for r in body["results"]]


def test_exclusion_by_words(api: httpx.Client, world: dict) -> None:
    signs = world["sign"]
    body = _search(api, query="phở thìn, không có bánh mì", collection_id=world["cid"], mode="keyword")
    assert body["excluded"] == ["bánh mì"]
    assert {signs[r["image_id"]] for r in body["results"]} == {"Phở Thìn"}
    both = _search(api, query="bánh mì -thuốc", collection_id=world["cid"], mode="keyword", top_k=50)
    assert "Nhà thuốc" not in {signs[r["image_id"]] for r in both["results"]}
    only_not = api.post("/api/v1/search", json={"query": "không có người", "collection_id": world["cid"]})
    assert only_not.status_code == 422 and only_not.json()["error"]["code"] == "nothing_to_find"


def _ranks(results: list[dict], scenes: dict[str, Scene], truth: ObjectQuery) -> float:
    """Share of the results' top 20 showing `truth`."""
    top = results[:20]
    return sum(satisfies(scenes[r["image_id"]], Query((truth,))) for r in top) / max(1, len(top))


def test_refinement_moves_the_positives_kind_up_and_the_negatives_down(
    api: httpx.Client, world: dict
) -> None:
    scenes: dict[str, Scene] = world["scene"]
    cid = world["cid"]
    base = _search(api, query="hình", collection_id=cid, top_k=40)["results"]

    def with_only(colour: str) -> str:  # an image whose objects are all of one colour
        for iid, scene in scenes.items():
            if world["sign"][iid] is None and {o.colour for o in scene.objects} == {colour}:
                return iid
        raise AssertionError(f"the fixed seed drew no all-{colour} scene")

    positive, negative = with_only("yellow"), with_only("red")
    yellow, red = ObjectQuery(colour="yellow"), ObjectQuery(colour="red")
    refined = _search(
        api,
        "/api/v1/search/refine",
        query="hình",
        positive_ids=[positive],
        negative_ids=[negative],
        collection_id=cid,
        top_k=40,
    )["results"]
    assert positive not in {r["image_id"] for r in refined} and negative not in {
        r["image_id"] for r in refined
    }
    assert _ranks(refined, scenes, yellow) > _ranks(base, scenes, yellow) + 0.2
    assert _ranks(refined, scenes, red) < _ranks(base, scenes, red)
    # images only: more like the positive
    like = _search(api, "/api/v1/search/refine", positive_ids=[positive], collection_id=cid)["results"]
    assert _ranks(like, scenes, yellow) > _ranks(base, scenes, yellow)
    bad = api.post("/api/v1/search/refine", json={"negative_ids": [negative]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "nothing_to_find"
    unknown = api.post("/api/v1/search/refine", json={"positive_ids": ["0" * 32]})
    assert unknown.status_code == 404


def test_search_by_a_region_of_an_image(api: httpx.Client, world: dict) -> None:
    cid = world["cid"]
    iid = next(i for i, s in world["sign"].items() if s == "Phở Thìn")
    whole = _search(api, "/api/v1/search/image", image_id=iid, collection_id=cid, top_k=5)
    part = _search(
        api,
        "/api/v1/search/image",
        image_id=iid,
        collection_id=cid,
        top_k=5,
        region={"x": 0.0, "y": 0.0, "width": 0.5, "height": 0.5},
    )
    assert part["results"] and [r["image_id"] for r in part["results"]] != [
        r["image_id"] for r in whole["results"]
    ]
    # the whole picture as a region finds the picture itself first
    itself = _search(
        api,
        "/api/v1/search/image",
        image_id=iid,
        collection_id=cid,
        region={"x": 0.0, "y": 0.0, "width": 1.0, "height": 1.0},
    )
    assert itself["results"][0]["image_id"] == iid
    tiny = api.post(
        "/api/v1/search/image",
        json={"image_id": iid, "region": {"x": 0.5, "y": 0.5, "width": 0.001, "height": 0.5}},
    )
    assert tiny.status_code == 422 and tiny.json()["error"]["code"] == "region_too_small"
    outside = api.post(
        "/api/v1/search/image", json={"image_id": iid, "region": {"x": 1.5, "y": 0, "width": 1, "height": 1}}
    )
    assert outside.status_code == 422

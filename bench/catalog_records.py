"""A synthetic photo library for the catalog benchmark, and its bulk load into a migrated catalog.

Ten collections of uneven size; dates taken over nine years (some in Vietnam's time zone, stored
in UTC, some as the camera's wall clock, a few missing); twenty camera models, a few popular
ones taking most photos; GPS on a third; a few albums and tags; NFC Vietnamese filenames.
Everything comes from one seed, so each backend holds the same rows.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert

from services.common.catalog import Catalog, image_id_for
from services.common.catalog.models import AlbumImageRow, AlbumRow, CollectionRow, ImageRow, TagRow

COLLECTIONS = 10
CAMERAS = [
    ("Apple", "iPhone 13"), ("Apple", "iPhone 14 Pro"), ("Apple", "iPhone 15"), ("Apple", "iPhone 11"),
    ("Samsung", "SM-S918B"), ("Samsung", "SM-A536E"), ("Samsung", "SM-G991B"), ("Xiaomi", "Redmi Note 12"),
    ("Xiaomi", "2201117TG"), ("OPPO", "CPH2247"), ("OPPO", "CPH2387"), ("vivo", "V2207"),
    ("Canon", "Canon EOS R6"), ("Canon", "Canon EOS 80D"), ("Sony", "ILCE-7M3"), ("Sony", "ILCE-6400"),
    ("Nikon", "NIKON D750"), ("FUJIFILM", "X-T4"), ("Google", "Pixel 7"), ("Panasonic", "DC-GH5"),
]  # fmt: skip
PLACES = ["Ảnh Tết", "Hội An", "Đà Lạt", "Sinh nhật bé", "Phở Hà Nội", "Vịnh Hạ Long", "Đám cưới",
          "Biển Nha Trang", "Chợ Bến Thành", "Ruộng bậc thang", "Mùa thu", "Gia đình"]  # fmt: skip
TAGS = ["gia đình", "du lịch", "tết", "biển", "món ăn", "bạn bè", "thiên nhiên", "thành phố"]
FIRST_TAKEN = datetime(2016, 1, 1)
TAKEN_SPAN_S = 9 * 365 * 86400
VIETNAM_MIN = 7 * 60
CHUNK = 20_000
IMAGE_COLUMNS = [c.name for c in ImageRow.__table__.columns]


@dataclass
class Library:
    """What the benchmark needs to know about the rows it loaded, to ask about real ones."""

    collection_ids: list[str]
    image_ids: list[str]
    collection: np.ndarray  # each image's collection (index into collection_ids)
    camera: np.ndarray  # each image's camera (index into CAMERAS), -1 without one
    taken_s: np.ndarray  # the date taken as stored (naive), seconds after FIRST_TAKEN, -1 without one
    albums: int
    tags: int


def generate(n: int, seed: int = 0) -> Library:
    rng = np.random.default_rng(seed)
    sizes = rng.dirichlet(np.full(COLLECTIONS, 3.0))
    collection = rng.choice(COLLECTIONS, n, p=sizes)
    popularity = 1.0 / np.arange(1, len(CAMERAS) + 1) ** 0.8
    camera = rng.choice(len(CAMERAS), n, p=popularity / popularity.sum())
    camera[rng.random(n) < 0.1] = -1  # screenshots, scans, messaging apps strip EXIF
    taken_s = rng.integers(0, TAKEN_SPAN_S, n)
    taken_s[rng.random(n) < 0.05] = -1
    cids = [f"bench{c:02d}{hashlib.sha256(str(c).encode()).hexdigest()[:9]}" for c in range(COLLECTIONS)]
    ids = [image_id_for(cids[c], hashlib.sha256(b"%d" % i).hexdigest()) for i, c in enumerate(collection)]
    return Library(cids, ids, collection, camera, taken_s, albums=0, tags=0)


def image_rows(lib: Library, start: int, stop: int, seed: int) -> list[dict[str, object]]:
    """Rows `start`..`stop` as the catalog's columns (aware upload times, as `UtcDateTime` takes)."""
    rng = np.random.default_rng([seed, start])
    m = stop - start
    sizes = rng.choice([(4032, 3024), (3024, 4032), (1920, 1080), (6000, 4000), (1280, 960)], m)
    located = rng.random(m) < 0.33
    lat, lon = rng.uniform(8.6, 23.3, m), rng.uniform(102.2, 109.4, m)
    zoned = rng.random(m) < 0.6
    uploaded = rng.integers(0, 2 * 365 * 86400, m)
    place = rng.integers(0, len(PLACES), m)
    byte_sizes = rng.integers(200_000, 12_000_000, m)
    rows = []
    for j, i in enumerate(range(start, stop)):
        cam, taken = int(lib.camera[i]), int(lib.taken_s[i])
        name = unicodedata.normalize("NFC", f"{PLACES[place[j]]} {i:07d}.jpg")
        imported = i % 4 == 0 and taken >= 0  # a quarter came from a folder import
        rows.append({
            "image_id": lib.image_ids[i],
            "collection_id": lib.collection_ids[lib.collection[i]],
            "filename": name,
            "folder": f"{FIRST_TAKEN.year + taken // (365 * 86400)}/{PLACES[place[j]]}" if imported else None,
            "width": int(sizes[j][0]),
            "height": int(sizes[j][1]),
            "content_type": "image/jpeg",
            "size": int(byte_sizes[j]),
            "sha256": hashlib.sha256(b"%d" % i).hexdigest(),
            "created_at": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=int(uploaded[j])),
            "taken_at": FIRST_TAKEN + timedelta(seconds=taken) if taken >= 0 else None,
            "taken_tz_offset_min": VIETNAM_MIN if taken >= 0 and zoned[j] else None,
            "camera_make": CAMERAS[cam][0] if cam >= 0 else None,
            "camera_model": CAMERAS[cam][1] if cam >= 0 else None,
            "latitude": float(lat[j]) if located[j] else None,
            "longitude": float(lon[j]) if located[j] else None,
            "orientation": 1,
            "note": None,
        })  # fmt: skip
    return rows


def _chunks(lib: Library, seed: int) -> Iterator[list[dict[str, object]]]:
    for start in range(0, len(lib.image_ids), CHUNK):
        yield image_rows(lib, start, min(start + CHUNK, len(lib.image_ids)), seed)


def _copy_images(catalog: Catalog, lib: Library, seed: int) -> None:
    """PostgreSQL: COPY, upload times as the naive UTC the column holds."""
    raw = catalog.sessions.engine.raw_connection()
    try:
        pg = raw.driver_connection
        assert pg is not None
        with pg.cursor() as cur, cur.copy(f"COPY images ({', '.join(IMAGE_COLUMNS)}) FROM STDIN") as copy:
            for rows in _chunks(lib, seed):
                for row in rows:
                    uploaded = row["created_at"]
                    assert isinstance(uploaded, datetime)
                    row["created_at"] = uploaded.astimezone(UTC).replace(tzinfo=None)
                    copy.write_row([row[c] for c in IMAGE_COLUMNS])
        pg.commit()
    finally:
        raw.close()


def load(catalog: Catalog, lib: Library, seed: int = 0) -> None:
    """Every row of `lib` into an empty, migrated catalog, with each collection's image counter."""
    created = datetime(2024, 1, 1, tzinfo=UTC)
    counts = np.bincount(lib.collection, minlength=COLLECTIONS)
    rng = np.random.default_rng([seed, 1 << 31])
    with catalog.sessions.write() as s:
        s.execute(insert(CollectionRow), [
            {"id": cid, "name": f"Thư viện {c + 1}", "owner": None,
             "created_at": created + timedelta(minutes=c), "image_count": int(counts[c])}
            for c, cid in enumerate(lib.collection_ids)
        ])  # fmt: skip
    if catalog.sessions.dialect == "postgresql":
        _copy_images(catalog, lib, seed)
    else:
        for rows in _chunks(lib, seed):
            with catalog.sessions.write() as s:
                s.execute(insert(ImageRow), rows)
    # Three albums per collection, each of 0.1% of the collection; 5% of images tagged.
    albums, members = [], []
    for c, cid in enumerate(lib.collection_ids):
        own = np.flatnonzero(lib.collection == c)
        for a in range(3):
            album_id = f"album{c:02d}{a}"
            albums.append({"id": album_id, "collection_id": cid, "name": f"Album {a + 1} – Kỷ niệm",
                           "created_at": created})  # fmt: skip
            chosen = rng.choice(own, min(len(own), max(1, len(own) // 1000)), replace=False)
            members += [{"album_id": album_id, "image_id": lib.image_ids[i], "added_at": created}
                        for i in chosen]  # fmt: skip
    tagged = rng.choice(len(lib.image_ids), len(lib.image_ids) // 20, replace=False)
    tags = [{"image_id": lib.image_ids[i], "tag": TAGS[int(i) % len(TAGS)]} for i in tagged]
    with catalog.sessions.write() as s:
        s.execute(insert(AlbumRow), albums)
        if members:
            s.execute(insert(AlbumImageRow), members)
        if tags:
            s.execute(insert(TagRow), tags)
    lib.albums, lib.tags = len(members), len(tags)

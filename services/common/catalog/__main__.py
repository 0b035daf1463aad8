"""`python -m services.common.catalog migrate | rebuild | revision -m MESSAGE`: the catalog's commands.

They read `CATALOG_URL` and the `STORAGE_*` settings, as the services do. `rebuild` fills the
database (migrated first) from object storage alone, after the database was lost; `revision`
writes the migration a change to the models needs (into `migrations/versions/`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from services.common.catalog import open_catalog
from services.common.catalog.migrate import new_revision
from services.common.catalog.rebuild import rebuild
from services.common.settings import CatalogSettings, StorageSettings
from services.common.storage import open_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.common.catalog", description=__doc__)
    parser.add_argument("command", choices=["migrate", "rebuild", "revision"])
    parser.add_argument("-m", "--message", default="", help="what a new revision changes")
    args = parser.parse_args(argv)
    store = open_store(StorageSettings())
    catalog = open_catalog(CatalogSettings(), store)
    try:
        if args.command == "rebuild":
            report = rebuild(catalog)
            summary = {
                "collections": report.collections,
                "images": report.images,
                "kept": report.kept,
                "skipped": dict(report.skipped),
            }
            print(json.dumps(summary, ensure_ascii=False))
        elif args.command == "revision":
            new_revision(catalog.sessions.engine, args.message)
        else:
            print("catalog migrated", file=sys.stderr)
    finally:
        asyncio.run(catalog.aclose())
        asyncio.run(store.aclose())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

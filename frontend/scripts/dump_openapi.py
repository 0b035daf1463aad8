"""Write the gateway's OpenAPI schema to `frontend/openapi.json` (or check it is current).

The UI's API types (`src/api/schema.d.ts`) are generated from that file by
openapi-typescript, so the committed copy must match the live gateway:
`python frontend/scripts/dump_openapi.py --check` exits 1 when it does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "frontend" / "openapi.json"


def live_schema() -> str:
    sys.path.insert(0, str(ROOT))
    from gateway.app import create_app
    from gateway.settings import GatewaySettings

    schema = create_app(GatewaySettings()).openapi()
    return json.dumps(schema, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed schema is stale")
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    schema = live_schema()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != schema:
            print(f"{args.out} is stale: run `make frontend-api`", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(schema, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

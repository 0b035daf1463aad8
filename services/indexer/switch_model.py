"""`python -m services.indexer.switch_model`: change the model of every collection with no downtime.

    python -m services.indexer.switch_model --status
    python -m services.indexer.switch_model --to 5e0c3a9f21d4     # start, build, flip
    python -m services.indexer.switch_model --to 5e0c3a9f21d4 --no-flip
    python -m services.indexer.switch_model --flip
    python -m services.indexer.switch_model --rollback
    python -m services.indexer.switch_model --collect               # drop the previous model
    python -m services.indexer.switch_model --cancel                # abandon a running switch

The new model is served by a second encoder deployment, named in `INDEXER_ENCODER_ALT_URLS` here and
`GATEWAY_ENCODER_ALT_URLS` on the gateways (both encoders stay up until `--collect`). Reads the
indexer's settings (storage, catalog, Redis). Exit status 2 when a step is refused, with the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

from services.common.clients import EncoderClient
from services.common.clients.encoders import EncoderSet
from services.indexer.bulk_sink import open_publishing
from services.indexer.settings import IndexerSettings
from services.indexer.switching import ModelSwitch, SwitchRefused


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m services.indexer.switch_model", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--to", metavar="MODEL_VERSION", help="start a switch to this model and build it")
    action.add_argument("--flip", action="store_true", help="make the built model serve")
    action.add_argument("--rollback", action="store_true", help="serve the previous model again")
    action.add_argument("--collect", action="store_true", help="remove the previous model's indexes")
    action.add_argument("--cancel", action="store_true", help="abandon the running switch")
    action.add_argument("--status", action="store_true", help="print the routing and the encoders' models")
    parser.add_argument("--no-flip", action="store_true", help="with --to: build, but leave the flip")
    parser.add_argument("--batch-size", type=int, default=64, help="images per encoder call")
    return parser.parse_args(argv)


def encoders(settings: IndexerSettings) -> EncoderSet:
    urls = [settings.encoder_url, *settings.encoder_alt_urls]
    return EncoderSet([EncoderClient(u, settings.encoder_timeout_s) for u in urls], refresh_s=1.0)


async def run(args: argparse.Namespace, settings: IndexerSettings) -> dict[str, object]:
    models = encoders(settings)
    try:
        async with open_publishing(settings) as pub:
            switch = ModelSwitch(
                pub.store,
                pub.catalog,
                pub.publisher,
                models,
                batch_size=args.batch_size,
                progress=lambda cid, n, total: print(f"[{n + 1}/{total}] {cid}", file=sys.stderr),
            )
            if args.status:
                served = await models.served(fresh=True)
                routing = await switch.routing()
                urls = {version: client.base_url for version, (client, _) in served.items()}
                return {"routing": routing.model_dump(), "encoders": urls}
            if args.to:
                routing = await switch.start(args.to)
                report = await (switch.build(routing) if args.no_flip else switch.build_and_flip(routing))
                out: dict[str, object] = {
                    "embedded": report.embedded,
                    "seconds": round(report.seconds, 2),
                    "collections": {
                        c.collection_id: {"images": c.serving, "built": c.target, "unreadable": c.unreadable}
                        for c in report.collections
                    },
                }
                out["routing"] = report.routing.model_dump()
                return out
            step = switch.flip if args.flip else switch.rollback if args.rollback else switch.cancel
            if args.collect:
                step = switch.collect
            return {"routing": (await step()).model_dump()}
    finally:
        await models.aclose()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse(argv)
    try:
        out = asyncio.run(run(args, IndexerSettings()))
    except SwitchRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

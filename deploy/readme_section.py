"""A generated part of the README between two HTML comment markers: read it, replace it, and the
`--write README` / `--check README` command line of every generator (the settings table, the
benchmark figures)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MarkedSection:
    start: str
    end: str

    def read(self, text: str) -> str:
        """The text between the markers; a `ValueError` when they are missing or out of order."""
        start, end = text.find(self.start), text.find(self.end)
        if start < 0 or end < start:
            raise ValueError(f"the README has no {self.start} … {self.end} section")
        return text[start + len(self.start) : end].strip("\n") + "\n"

    def replace(self, text: str, body: str) -> str:
        self.read(text)  # validates the markers
        start, end = text.index(self.start) + len(self.start), text.index(self.end)
        return f"{text[:start]}\n{body}{text[end:]}"

    def add_arguments(self, parser: argparse.ArgumentParser, what: str) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--write", type=Path, metavar="README", help=f"replace the {what} between the markers"
        )
        group.add_argument("--check", type=Path, metavar="README", help=f"exit 1 when the {what} is stale")

    def run(self, args: argparse.Namespace, body: str, stale: str) -> int:
        """`--write`: replace; `--check`: 1 (and `stale` on stderr) when it differs; else print it."""
        if args.write:
            args.write.write_text(self.replace(args.write.read_text(encoding="utf-8"), body), "utf-8")
        elif args.check:
            if self.read(args.check.read_text(encoding="utf-8")) != body:
                print(f"{args.check}: {stale}", file=sys.stderr)
                return 1
        else:
            sys.stdout.write(body)
        return 0

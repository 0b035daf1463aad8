"""Reading back the Markdown the benchmarks write to bench/results/*.md.

Shared by `python -m bench` (its plots of the tables some benchmarks print) and
`bench.readme` (the README's figures), so both read a table the same way.
"""

from __future__ import annotations

import re


def table_lines(markdown: str, header_starts: str) -> list[str]:
    """Header, separator and rows of the first table whose header row starts with `header_starts`.

    HTML comments between rows (notes a benchmark writes inside its table) are left out;
    `[]` when there is no such table.
    """
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"| {header_starts}"):
            out = [line]
            for row in lines[i + 1 :]:
                if row.startswith("<!--"):
                    continue
                if not row.startswith("|"):
                    break
                out.append(row)
            return out
    return []


def cells(line: str) -> list[str]:
    """The stripped cells of one table row (empty trailing cells kept)."""
    return [c.strip() for c in line.strip().strip("|").split("|")]


def rows(markdown: str, header_starts: str) -> list[list[str]]:
    """Cells of the first Markdown table whose header row starts with `header_starts`."""
    return [cells(line) for line in table_lines(markdown, header_starts)[2:]]


def records(markdown: str, header_starts: str) -> list[dict[str, str]]:
    """The rows of that table as header → cell (for tables whose column names are unique)."""
    lines = table_lines(markdown, header_starts)
    if not lines:
        return []
    header = cells(lines[0])
    return [dict(zip(header, cells(line), strict=False)) for line in lines[2:]]


def number(cell: str) -> float | None:
    """The number a cell starts with (`"1,234.5 q/s"` → 1234.5), `None` when it starts otherwise."""
    match = re.match(r"[\d,.]+", cell)
    if not match or not any(ch.isdigit() for ch in match.group()):
        return None
    return float(match.group().replace(",", ""))

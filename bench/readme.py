"""The README's benchmark figures, rendered from the result files in bench/results/.

`python -m bench.readme` prints the Benchmarks summary; `--write README.md` replaces the text
between the `bench-results` markers and `--check README.md` exits 1 when it is stale.
`python -m bench` writes it after every run, so each figure the README shows is one a
benchmark wrote: the summary tables and the figures in its prose are read from
machine.md, e2e.md, ingest.md, upload_stall.md, encoder.md, index.md, deletes.md, catalog.md,
filtered_search.md, ocr_cost.md, collections.md, bulk.md and scale.md. A missing file reads "not measured
yet" with the command that writes it; a file whose layout is not the one read here is an error that names it.
"""

from __future__ import annotations

import argparse
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

from bench.tables import number, records, rows, table_lines
from deploy.readme_section import MarkedSection

START = "<!-- bench-results:start -->"
END = "<!-- bench-results:end -->"
RESULTS = Path("bench/results")
LINK = "bench/results"  # what the README links to, whichever folder was read
WIDTH = 90  # the README's prose is wrapped near this column

# The result files the section reads, by the module that writes each.
MODULES = {
    "machine": "machine",
    "e2e": "e2e_bench",
    "ingest": "ingest_bench",
    "upload_stall": "upload_stall",
    "encoder": "encoder_bench",
    "index": "index_bench",
    "deletes": "deletes_bench",
    "ocr_cost": "ocr_cost",
    "catalog": "catalog_bench",
    "filtered_search": "filtered_search_bench",
    "collections": "collections_bench",
    "scale": "scale",
    "bulk": "bulk_bench",
}
# Rows of catalog.md shown in the README (every row stays in the file), by operation prefix.
CATALOG_OPERATIONS = (
    "hydrate 20 results: get_image_details",
    "count a collection",
    "list a page: first",
    "list a page: cursor deep in",
    "matching_ids: camera in 1 collection",
    "filtered search:",
)
CATALOG_COLUMNS = ("operation", "backend", "p50 ms", "p99 ms", "bar (p50)", "bar / p50")
BACKEND_LOADS = {"sqlite": "SQLite (executemany)", "postgres": "PostgreSQL (COPY)"}


class LayoutError(ValueError):
    """A result file is there but does not hold what the README shows."""


def missing(name: str) -> str:
    return f"not measured yet — run `python -m bench.{MODULES[name]}`"


def para(text: str) -> str:
    """`text` wrapped as the README's prose is, never inside a `code span`."""
    glued = re.sub(r"`[^`]*`", lambda m: m[0].replace(" ", "\0"), text)
    return textwrap.fill(glued, WIDTH, break_long_words=False, break_on_hyphens=False).replace("\0", " ")


def match(pattern: str, text: str) -> re.Match[str]:
    found = re.search(pattern, text, flags=re.MULTILINE)
    if found is None:
        raise LayoutError(f"no text matching {pattern!r}")
    return found


def command(text: str) -> str:
    return match(r"^Command: `([^`]+)`", text)[1]


def table(text: str, header_starts: str) -> list[dict[str, str]]:
    found = records(text, header_starts)
    if not found:
        raise LayoutError(f"no table whose header starts with '| {header_starts}'")
    return found


def first(found: list[dict[str, str]], key: str, test: Callable[[str], bool], what: str) -> dict[str, str]:
    for row in found:
        if test(row[key]):
            return row
    raise LayoutError(f"no row of {what}")


def ms(cell: str) -> str:
    """Milliseconds as the summary tables show them: two decimals below 1, one below 100, whole above."""
    value = number(cell)
    if value is None:
        return cell
    if value < 1:
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def whole(cell: str) -> str:
    value = number(cell)
    return cell if value is None else f"{value:,.0f}"


def thousands(n: int) -> str:
    """1000000 → "1M", 200000 → "200k", others with separators."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def after(cell: str) -> str:
    """The "after" half of a "before / after" cell."""
    return cell.split(" / ")[-1]


def first_of_pair(cell: str) -> str:
    """The p50 of a "p50 / p99" cell."""
    return cell.split(" / ")[0]


class Results:
    """The result files of one folder, read once each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._texts: dict[str, str | None] = {}

    def text(self, name: str) -> str | None:
        if name not in self._texts:
            path = self.folder / f"{name}.md"
            self._texts[name] = path.read_text(encoding="utf-8") if path.exists() else None
        return self._texts[name]

    def read(self, name: str, render: Callable[[str | None], str]) -> str:
        """`render` of the file's text (`None` when absent); a layout error names the file."""
        try:
            return render(self.text(name))
        except (LayoutError, KeyError, IndexError) as e:
            raise LayoutError(
                f"{self.folder / name}.md: {e} (is it from another version of `python -m bench."
                f"{MODULES[name]}`? rerun it, or teach bench/readme.py its layout)"
            ) from e


def intro(results: Results) -> str:
    loads: list[float] = []
    cpus = None
    for name in MODULES:
        text = results.text(name)
        if text is None:
            continue
        loads += [float(x) for x in re.findall(r"load average ([\d.]+)", text)]
        if cpus is None and (found := re.search(r"(\d+) CPUs", text)):
            cpus = found[1]
    machine = f"{cpus}-CPU machine" if cpus else "machine"
    if loads:
        low, high = min(loads), max(loads)
        span = f"{low:.1f}" if low == high else f"{low:.1f}–{high:.1f}"
        machine += f" (load average {span} during the runs)"
    return para(
        f"Tables and plots: [{LINK}/README.md]({LINK}/README.md). Measured on this project's shared "
        f"{machine}, so absolute figures are noisy; the tables give medians and ratios against a named peer."
    )


def e2e(text: str | None) -> str:
    if text is None:
        return f"End-to-end search through the gateway: {missing('e2e')}."
    scope = re.search(r"top_k=(\d+), over ([\d,]+) ", text)
    lead = para(
        "End-to-end search through the gateway"
        + (f" ({scope[2]} images, top_k {scope[1]})" if scope else "")
        + ", against a bare FastAPI route returning the same bytes (the framework's ceiling on the "
        "same machine), with the load generator in its own process:"
    )
    points = table(text, "target |")
    clients = sorted({int(p["clients"]) for p in points})
    lines = [
        "| target | clients | q/s | p50 ms | p99 ms | vs bare FastAPI |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in points:
        if p["target"] != "bare FastAPI" and int(p["clients"]) in (clients[0], clients[-1]):
            cells = [p["target"], p["clients"], whole(p["q/s"]), ms(p["p50 ms"]), ms(p["p99 ms"])]
            lines.append("| " + " | ".join([*cells, p["q/s vs bare"]]) + " |")
    return lead + "\n\n" + "\n".join(lines)


Figure = tuple[str, str]  # what was measured, its figure


def ingest_figures(text: str | None) -> list[Figure]:
    label = "ingestion, upload to searchable / the encoder alone"
    if text is None:
        return [(label, missing("ingest"))]
    raw = match(r"^\| encoder forward alone \(([^;)]+)", text)[1]
    figures = [(f"{label} ({raw})", _ingest_figure(table(text, "measure | median"), "measure"))]
    tower = records(text, "measure, ")
    if tower:  # the same pipeline with a production-size image tower
        found = match(r"^## A production-size image tower: (\S+) at (\d+) px", text)
        key = f"measure, {found[1]}"
        what = f"{label}, {found[1]} image tower at {found[2]} px, untrained ({raw})"
        figures.append((what, _ingest_figure(tower, key)))
    return figures


def _ingest_figure(rows: list[dict[str, str]], key: str) -> str:
    measures = {r[key].split(" (")[0]: r["median"] for r in rows}
    ratio = number(measures["pipeline / raw encoder"])
    return (
        f"{whole(measures['upload to searchable, through the gateway'])} / "
        f"{whole(measures['encoder forward alone'])} images/s"
        + (f" ({ratio:.2f}×)" if ratio is not None else "")
    )


def encoder_figures(text: str | None) -> list[Figure]:
    if text is None:
        return [("encoder, concurrent clients sending one text each, batching on / off", missing("encoder"))]
    service = table(text, "batching | requests/s")
    on = first(service, "batching", lambda b: b == "on", "batching on")
    off = first(service, "batching", lambda b: b == "off", "batching off")
    clients = match(r"(\d+) concurrent clients", text)[1]
    ratio = match(r"batching ratio \(on / off\): ([\d.]+×)", text)[1]
    figures = [
        (
            f"encoder, {clients} clients sending one text each, batching on / off",
            f"{whole(on['requests/s'])} / {whole(off['requests/s'])} requests/s "
            f"({ratio}, mean batch {whole(on['mean batch'])})",
        )
    ]
    idle = records(text, "path | p50 ms")  # the idle table is newer than the others: optional
    forward = [r for r in idle if r["path"] == "in-process forward"]
    spaced = [r for r in idle if r["path"].startswith("in-process forward, each after")]
    no_wait = [r for r in idle if r["path"].replace(" ", "").endswith("ENCODER_MAX_WAIT_MS=0")]
    if forward and no_wait:
        also = ""
        if spaced and "above the idle-spaced forward" in no_wait[0]:
            gap = spaced[0]["path"].removeprefix("in-process forward, each after ")
            also = (
                f"; {no_wait[0]['above the idle-spaced forward']} above the same forward each after "
                f"{gap} ({spaced[0]['p50 ms']} ms)"
            )
        figures.append(
            (
                "encoder, one text when idle: service p50 vs in-process forward",
                f"{no_wait[0]['p50 ms']} vs {forward[0]['p50 ms']} ms "
                f"({no_wait[0]['above the forward']}{also}, `ENCODER_MAX_WAIT_MS=0`)",
            )
        )
    return figures


def index_figures(text: str | None) -> list[Figure]:
    if text is None:
        return [("index, single query at recall@10 0.95", missing("index"))]
    scope = match(r"^([\d,]+) clustered (\d+)-d .*?k=(\d+)", text)
    n = int(scope[1].replace(",", ""))
    fastest = re.search(r"^Fastest single query at recall ([\d.]+): (.+), ([\d.]+×) (.+)\.$", text, re.M)
    label = f"index, {thousands(n)}×{scope[2]} clustered, single query at recall@{scope[3]}"
    if fastest is None:
        return [(f"{label} 0.95", "no method reached it")]
    method = fastest[2]
    row = next((r for r in rows(text, "method |") if r[0] == method), None)
    if row is None:
        raise LayoutError(f"no row of {method}")
    name = method.removeprefix("FAISS ")
    return [(f"{label} {fastest[1]}", f"{name} {row[7]} q/s, {fastest[3]} {fastest[4]}")]


def machine_figures(text: str | None) -> list[Figure]:
    if text is None:
        return [("FAISS Flat vs this machine's limits", missing("machine"))]
    measures = table(text, "measure | value")
    copy = first(measures, "measure", lambda m: m.startswith("memory copy"), "memory copy")["value"]
    matmul = first(measures, "measure", lambda m: "matmul" in m, "matmul")["value"]
    parts = []
    for r in table(text, "search | ceiling"):
        kind = match(r"\(([^)]+)\)$", r["search"])[1]
        parts.append(f"{r['fraction of the limit']} of {kind} ({r['search'].split(',')[0]})")
    return [(f"FAISS Flat vs this machine's limits ({copy} copy, {matmul} matmul)", ", ".join(parts))]


def upload_stall_figures(text: str | None) -> list[Figure]:
    if text is None:
        return [
            (
                "`GET /api/v1/collections` p99 while large uploads run (`python -m bench.upload_stall`)",
                missing("upload_stall"),
            )
        ]
    work = re.search(r"(\d+) uploads at once of (\d+) PNGs of (\d+) Mpx", text)
    what = f"{work[1]} uploads of {work[2]}×{work[3]} Mpx PNGs" if work else "large uploads"
    load = match(r"load average ([\d.]+)", text)[1]
    route = first(table(text, "route |"), "route", lambda r: r == "`/api/v1/collections`", "the listing")
    return [
        (
            f"`GET /api/v1/collections` p99 while {what} run (`{command(text)}`)",
            f"{route['uploading p99 ms']} ms (idle {route['idle p99 ms']} ms, {route['p99 ratio']}) "
            f"at load average {load}",
        )
    ]


def deletes_figures(text: str | None) -> list[Figure]:
    if text is None:
        return [("deletions, folded vs one publish per delete", missing("deletes"))]
    scope = match(r"Deleting ([\d,]+) of ([\d,]+) images", text)
    modes = table(text, "mode | publishes")
    folded = first(modes, "mode", lambda m: m.startswith("folded"), "the folded mode")
    peer = first(modes, "mode", lambda m: "(peer)" in m, "the peer")

    def index(row: dict[str, str]) -> str:
        versions = after(row["index versions"])
        return f"{versions} version{'' if versions == '1' else 's'}, {after(row['index MiB'])} MiB"

    return [
        (
            f"deleting {scope[1]} of {scope[2]} images (`{command(text)}`), folded vs one publish per delete",
            f"{folded['publishes']} vs {peer['publishes']} publishes; index {index(folded)} vs {index(peer)}",
        )
    ]


def ocr_cost_figures(text: str | None) -> list[Figure]:
    label = "indexing 1,000 text-free scenes with OCR on vs off"
    if text is None:
        return [(label, missing("ocr_cost"))]
    scope = match(r"(\d+) shape-only scenes", text)
    load = match(r"load average ([\d.]+)", text)[1]
    runs = table(text, "indexing |")
    on = first(runs, "indexing", lambda r: r == "OCR on", "the OCR run")
    off = first(runs, "indexing", lambda r: r.startswith("OCR off"), "the peer")
    return [
        (
            f"indexing {scope[1]} text-free scenes with OCR on vs off (`{command(text)}`)",
            f"{on['vs OCR off']} ({on['seconds']} s vs {off['seconds']} s) at load average {load}",
        )
    ]


def collections_figures(text: str | None) -> list[Figure]:
    label = "100 collections × 1,000 searched together vs one of 100,000, new queries"
    if text is None:
        return [(label, missing("collections"))]
    points = table(text, "layout |")
    figures = []
    for clients in ("1", "16"):

        def at(prefix: str, clients: str = clients) -> dict[str, str]:
            return first(
                [p for p in points if p["clients"] == clients and p["signals"] == "Redis"],
                "layout",
                lambda layout: layout.startswith(prefix),
                f"{prefix} at {clients} clients",
            )

        view, before = at("100 × 1,000, merged view"), at("100 × 1,000, each on its own")
        figures.append(
            (
                f"{label} at {clients} client{'' if clients == '1' else 's'} (`{command(text)}`, Redis)",
                f"p50 {view['p50 vs peer']}, q/s {view['q/s vs peer']} "
                f"(each on its own: p50 {before['p50 vs peer']}, q/s {before['q/s vs peer']})",
            )
        )
    return figures


def bulk_figures(text: str | None) -> list[Figure]:
    label = "bulk embedding on Ray Data, steady images/s / the in-process forward at the same threads"
    if text is None:
        return [(label, missing("bulk"))]
    scope = match(r"^([\d,]+) ViShapes-vi PNGs .*? on (\w+), batch (\d+)", text)
    load = match(r"load average ([\d.]+)", text)[1]
    parts = []
    for r in table(text, "source | actors"):
        actors = r["actors"].split(" ")[0]
        parts.append(
            f"{r['source']}, {actors} actor{'' if actors == '1' else 's'}: {r['Ray steady images/s']} / "
            f"{r['raw in-process images/s']} ({r['steady / raw']})"
        )
    ceiling = match(r"^S3 server ceiling: .*?: ([\d,]+) images/s; the S3 runs reach ([\d.]+×)", text)
    parts.append(f"S3 server ceiling {ceiling[1]} images/s, reached {ceiling[2]}")
    return [
        (
            f"bulk embedding on Ray Data, {scope[1]} images on {scope[2]} (`{command(text)}`), "
            "steady / in-process forward at the same threads",
            "; ".join(parts) + f" at load average {load}",
        )
    ]


def scale_figures(text: str | None) -> list[Figure]:
    label = "a million vectors through the gateway"
    if text is None:
        return [(label, missing("scale"))]
    scope = match(r"^([\d,]+) vectors at (\d+)-d", text)
    rows = {r["measure"]: r["value"] for r in table(text, "measure |")}
    peers = table(text, "index |")
    hnsw = first(peers, "index", lambda i: i.startswith("hnswlib"), "the hnswlib peer")
    return [
        (
            f"{scope[1]} vectors at {scope[2]}-d (`{command(text)}`): new query p50, 1 / 16 clients",
            f"{rows['new query, 1 clients: p50 / p99 ms'].split(' / ')[0]} / "
            f"{rows['new query, 16 clients: p50 / p99 ms'].split(' / ')[0]} ms at recall@10 "
            f"{rows['recall@10 of served results']}; repeated query "
            f"{rows['repeated query, 1 clients: p50 / p99 ms'].split(' / ')[0]} ms",
        ),
        (
            f"{scope[1]} vectors: replica memory, build and publish, load after restart",
            f"{rows['replica memory per vector KB']} KB a vector, {rows['of which build and publish s']} s, "
            f"{rows['replica load after restart s']} s; hnswlib at recall {hnsw['recall@10']} takes "
            f"{hnsw['vs ours']} of the replica index's time in process",
        ),
    ]


FIGURES: list[tuple[str, Callable[[str | None], list[Figure]]]] = [
    ("ingest", ingest_figures),
    ("encoder", encoder_figures),
    ("index", index_figures),
    ("machine", machine_figures),
    ("upload_stall", upload_stall_figures),
    ("deletes", deletes_figures),
    ("ocr_cost", ocr_cost_figures),
    ("collections", collections_figures),
    ("bulk", bulk_figures),
    ("scale", scale_figures),
]


def other_figures(results: Results) -> str:
    lines = ["| other figures | value |", "| --- | ---: |"]
    for name, figures in FIGURES:

        def render(text: str | None, figures: Callable[[str | None], list[Figure]] = figures) -> str:
            return "\n".join(f"| {label} | {value} |" for label, value in figures(text))

        lines.append(results.read(name, render))
    return "\n".join(lines)


def catalog(text: str | None) -> str:
    if text is None:
        return f"Catalog: {missing('catalog')}."
    scope = match(r"^([\d,]+) image records in (\d+) collections", text)
    n = int(scope[1].replace(",", ""))
    cpus = re.search(r"(\d+) CPUs, shared", text)
    load = re.search(r"load average ([^)]*?) at the end", text)
    bars = re.search(r"^Bars from (.+?) \(p50", text, re.M)
    camera = re.search(r"camera in 1 collection \([\d,]+ ids, ([\d.]+)%\)", text)
    loads = [
        f"{r['load s']} s on {BACKEND_LOADS.get(r['backend'], r['backend'])}"
        for r in table(text, "backend |")
    ]
    where = f"the shared {cpus[1]}-CPU machine" if cpus else "the shared machine"
    if load:
        where += f" (load average {load[1]} at the end, so the p99s are noisy)"
    share = f"{float(camera[1]):.0f}% " if camera else ""
    bars_of = bars[1] if bars else "the catalog"
    lead = para(
        f"Catalog at {thousands(n)} records (`{command(text)}`, part of `make bench`; every row in "
        f"[{LINK}/catalog.md]({LINK}/catalog.md)): {scope[1]} image records in {scope[2]} collections, "
        f"each call timed alone with fresh arguments, against the bars of {bars_of} (p50), on {where}. "
        f"Loading them took {' and '.join(loads)}. Hydration is the gateway's read of a "
        "result page (records, albums and tags); the filtered search is the gateway's resolve of a "
        f"{share}camera filter plus a replica scoring its allowed rows:"
    )
    timings = table(text, "operation |")
    lines = ["| " + " | ".join(CATALOG_COLUMNS) + " |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    for prefix in CATALOG_OPERATIONS:
        for t in timings:
            if t["operation"].startswith(prefix):
                lines.append("| " + " | ".join(t[c] for c in CATALOG_COLUMNS) + " |")
    return lead + "\n\n" + "\n".join(lines)


def filtered_search(text: str | None) -> str:
    if text is None:
        return f"Filtered search on one replica: {missing('filtered_search')}."
    dim = match(r"^dim (\d+)", text)[1]
    flat = [r for r in table(text, "vectors |") if r["index"] == "Flat"]
    if not flat:
        raise LayoutError("no Flat rows")
    size = max(int(r["vectors"].replace(",", "")) for r in flat)
    largest = [r for r in flat if int(r["vectors"].replace(",", "")) == size]
    # the allow-list nearest 1% of the rows, the share the catalog's camera filter keeps
    row = min(largest, key=lambda r: abs(int(r["allowed"].replace(",", "")) - size / 100))
    return para(
        f"Filtered search on one replica (`{command(text)}`, {dim}-d, one query on one thread; "
        f"[{LINK}/filtered_search.md]({LINK}/filtered_search.md)): over {row['vectors']} Flat rows, "
        f"{row['allowed']} allowed ids cost {first_of_pair(row['allow-list p50 / p99 ms'])} ms p50 against "
        f"{first_of_pair(row['unfiltered p50 / p99 ms'])} ms unfiltered ({row['× unfiltered']}×)."
    )


def index(text: str | None) -> str:
    if text is None:
        return f"The index benchmark: {missing('index')}."
    scope = match(r"^([\d,]+ clustered \d+-d unit vectors, \d+ held-out queries, k=\d+)", text)[1]
    shards = re.search(r"^(.+?) vs (.+?) over HTTP", text, re.M)
    methods = table_lines(text, "method |")
    if not methods:
        raise LayoutError("no table whose header starts with '| method |'")
    lead = (
        f"The index benchmark (`{command(text)}`: {scope}; random vectors would make recall "
        "meaningless) against exact search and hnswlib as the outside peer"
    )
    layouts = table_lines(text, "layout |")
    if shards and layouts:
        lead += f", then {shards[1]} against {shards[2]} over HTTP"
    out = para(lead + ":") + "\n\n" + "\n".join(methods)
    if layouts:
        out += "\n\n" + "\n".join(layouts)
    return out


def render(folder: Path = RESULTS) -> str:
    """The text between the README's markers, from the result files in `folder`."""
    results = Results(folder)
    blocks = [
        intro(results),
        results.read("e2e", e2e),
        other_figures(results),
        results.read("catalog", catalog),
        results.read("filtered_search", filtered_search),
        results.read("index", index),
    ]
    return "\n\n".join(blocks) + "\n"


SECTION = MarkedSection(START, END)
readme_section = SECTION.read
replace_section = SECTION.replace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    SECTION.add_arguments(parser, "figures")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the result files")
    args = parser.parse_args(argv)
    stale = (
        f"the Benchmarks figures differ from {args.results}/*.md; run: "
        f"python -m bench.readme --write {args.check or args.write}"
    )
    return SECTION.run(args, render(args.results), stale)


if __name__ == "__main__":
    raise SystemExit(main())

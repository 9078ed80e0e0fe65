"""HTML -> main text. One function, several extractors, chosen by `read.extractor`.

- `resiliparse`: DCLM's extractor, `extract_plain_text(main_content=True)` without alt texts,
  link targets, form fields, noscript or comment sections.
- `trafilatura`: FineWeb's settings (datatrove's Trafilatura step): `favor_precision=True,
  include_comments=False, deduplicate=True`, plain text. One deviation, for determinism: the
  repeated-segment cache is fresh per page, where datatrove shares trafilatura's process-global
  cache, so a paragraph seen 3 times on earlier pages of the same worker vanished from later ones.
- `grist` (the default): trafilatura in precision mode with reader comments kept; when that keeps
  under 30% of resiliparse's main content (precision pruned the article itself) trafilatura
  reruns in balanced mode, and when trafilatura finds under 250 characters, resiliparse's text
  is taken. Layout tables (a cell over 200 characters) come as their cells, one per line.

Measured on the real set (`make real`; benchmarks/bench_extraction.py --repeats 5): 198 pages,
121 of them articles with must/must-not phrases (245 / 241) or a full gold text (22).

                 must%  boilerplate%  empty articles  gold token F1 (P / R)  pages per CPU-s
    grist         96.3      98.8            0          96.0 (93.7 / 99.2)         29.5
    trafilatura   86.1      99.2            0          96.1 (93.8 / 99.2)         40.0
    resiliparse   84.1      83.4            5          90.6 (84.4 / 99.6)        537

(pages: median 96 KB of HTML. Speed on a shared 2-core machine varies by ~15% between runs; the
ratio grist/trafilatura was 0.74 in both runs: comments, the resiliparse pass and the reruns.)

On the pages not from trafilatura's own test set (its development set): grist 97.9 / 95.8,
trafilatura 74.5 / 97.9, resiliparse 78.7 / 95.8 (must% / boilerplate%). What grist gains over
FineWeb's settings: reader comments (trafilatura's tests expect them: 7 phrases), the article
of 163.com pages that precision mode prunes (balanced rerun), pages where trafilatura finds
nothing (resiliparse). What it misses: a related-video title hand-marked as must-appear, a
Reuters attribution line and a few list items / headings pruned by trafilatura, one comment
hand-marked as boilerplate (gne toutiao-3), one QR-code line (sina).

Every extractor keeps paragraph structure (one block per line) for the line cleaning that follows,
is deterministic, and never raises: a page the parser cannot handle gives '' (the reader counts it
as `empty_extraction`). Nothing global changes per call.
"""

from __future__ import annotations

import logging
import re
from typing import Callable

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree
from trafilatura import extract as _trafilatura_extract
from trafilatura.deduplication import LRUCache
from trafilatura.settings import LRU_SIZE

from pipelines.sources.charset import decode_page
from pipelines.sources.reader_config import Extractor  # noqa: F401 - re-exported
EXTRACTORS: tuple[str, ...] = ("resiliparse", "trafilatura", "grist")

# trafilatura logs every page it finds too short or unparsable at WARNING; the reader already
# counts those as empty_extraction, so its log lines would only flood worker logs.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def decode_html(body: bytes, http_charset: str | None = None) -> str:
    """An HTML payload's text, decoded exactly as the web reader decodes it
    (`pipelines.sources.charset.decode_page`: BOM, UTF-8, HTTP / meta charset, detector)."""
    return decode_page(body, http_charset)[0]


# resiliparse's main-content pass is quadratic in DOM depth (measured: 10,000 nested <div>s 1.9 s,
# 20,000 8.8 s, 50,000 ~1 min; depth 1,000 ~20 ms). Deeper trees are broken markup: their text is
# taken without the main-content pass. The check is one CSS query (~1 ms on a 2.6 MB page).
_MAX_DEPTH = 1000
_TOO_DEEP = " > ".join(["*"] * _MAX_DEPTH)


def _resiliparse_text(html: str, main_content_only: bool = False) -> str | None:
    """resiliparse's text; None instead of whole-page text when the tree is too deep and
    `main_content_only` is set."""
    tree = HTMLTree.parse(html)
    too_deep = tree.document is not None and tree.document.query_selector(_TOO_DEEP) is not None
    if too_deep and main_content_only:
        return None
    return extract_plain_text(tree, main_content=not too_deep, alt_texts=False, links=False, list_bullets=True,
                              form_fields=False, noscript=False, comments=False)


def _resiliparse(html: str, url: str | None) -> str:
    return _resiliparse_text(html) or ""


def _trafilatura_txt(html: str, url: str | None, favor_precision: bool, include_comments: bool) -> str:
    # A fresh cache per page: deduplication within the page only, independent of call order.
    return _trafilatura_extract(html, url=url, output_format="txt", favor_precision=favor_precision,
                                include_comments=include_comments, deduplicate=LRUCache(maxsize=LRU_SIZE)) or ""


def _trafilatura(html: str, url: str | None) -> str:
    return _trafilatura_txt(html, url, favor_precision=True, include_comments=False)


# grist: below this share of resiliparse's main content, trafilatura's precision mode has pruned
# the article itself (163.com: 7-24% of it, the article body gone; the clean cuts of long pages,
# correctiv 9%, austria.info 13%, are kept by the balanced rerun). Measured plateau: 0.25-0.4.
_PRECISION_SHARE = 0.3
# ... and below this many characters trafilatura found no article at all (its own MIN_EXTRACTED_SIZE).
_MIN_ARTICLE_CHARS = 250


def _grist(html: str, url: str | None) -> str:
    precise = _tidy(_trafilatura_txt(html, url, favor_precision=True, include_comments=True))
    try:
        main = _tidy(_resiliparse_text(html, main_content_only=True) or "")
    except Exception:  # noqa: BLE001 - resiliparse only arbitrates here; trafilatura's text stands alone
        main = ""
    if len(precise) >= _PRECISION_SHARE * len(main):
        return _unfold_tables(precise)
    balanced = _tidy(_trafilatura_txt(html, url, favor_precision=False, include_comments=True))
    best = balanced if len(balanced) > len(precise) else precise
    return main if len(best) < _MIN_ARTICLE_CHARS and len(main) > len(best) else _unfold_tables(best)


# trafilatura writes tables as markdown rows; a cell this long means a layout table (a whole
# article in one cell, as on old sites), whose row would reach line cleaning as one line ending in '|'.
_LAYOUT_CELL_CHARS = 200
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _cells(row: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(row[1:-1])]


def _unfold_tables(text: str) -> str:
    """Markdown tables as trafilatura writes them: a layout table -> its non-empty cells, one per
    line; a data table stays a table, without its empty rows."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        j = i
        while j < len(lines) and len(lines[j]) > 1 and lines[j][0] == "|" == lines[j][-1]:
            j += 1
        if j == i:
            out.append(lines[i])
            i += 1
            continue
        rows = [_cells(r) for r in lines[i:j]]
        if any(len(c) > _LAYOUT_CELL_CHARS for cells in rows for c in cells):
            out.extend(c for cells in rows for c in cells if c.strip("-: "))
        else:
            out.extend(r for r, cells in zip(lines[i:j], rows) if any(cells))
        i = j
    return "\n".join(out)


def _tidy(text: str) -> str:
    """One block per line, no indentation or trailing blanks, at most one empty line in a row."""
    lines = [ln.strip() for ln in text.splitlines()]
    out = [ln for i, ln in enumerate(lines) if ln or (i and lines[i - 1])]
    return "\n".join(out).strip()


_IMPL: dict[str, Callable[[str, str | None], str]] = {
    "resiliparse": _resiliparse, "trafilatura": _trafilatura, "grist": _grist}


def extract_main_text(html: str, url: str | None = None, extractor: str = "grist") -> str:
    """The main content of one decoded HTML page as plain text ('' when there is none or the page
    cannot be parsed). An unknown `extractor` is a ValueError (a config error, not a page error)."""
    impl = _IMPL.get(extractor)
    if impl is None:
        raise ValueError(f"unknown extractor {extractor!r}; expected one of {', '.join(EXTRACTORS)}")
    if not isinstance(html, str) or not html.strip():
        return ""
    try:
        html.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (a lax upstream decode): the parsers refuse them -> U+FFFD
        html = html.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    try:
        text = impl(html, url)
    except Exception:  # noqa: BLE001 - a parser failure on one page is that page's empty extraction
        return ""
    return _tidy(text)

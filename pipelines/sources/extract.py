"""HTML -> main text. One function, several extractors, chosen by `read.extractor`.

- `resiliparse`: DCLM's extractor, `extract_plain_text(main_content=True)` without alt texts,
  link targets, form fields, noscript or comment sections.
- `trafilatura`: FineWeb's settings (datatrove's Trafilatura step): `favor_precision=True,
  include_comments=False, deduplicate=True`, plain text. One deviation, for determinism: the
  repeated-segment cache is fresh per page, where datatrove shares trafilatura's process-global
  cache, so a paragraph seen 3 times on earlier pages of the same worker vanished from later ones.
- `grist`: FILLED IN BELOW after measurement.

Every extractor keeps paragraph structure (one block per line) for the line cleaning that follows,
is deterministic, and never raises: a page the parser cannot handle gives '' (the reader counts it
as `empty_extraction`). Nothing global changes per call.
"""

from __future__ import annotations

import logging
from typing import Callable, Literal

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding, map_encoding_to_html5
from trafilatura import extract as _trafilatura_extract
from trafilatura.deduplication import LRUCache
from trafilatura.settings import LRU_SIZE

Extractor = Literal["resiliparse", "trafilatura", "grist"]
EXTRACTORS: tuple[str, ...] = ("resiliparse", "trafilatura", "grist")

# trafilatura logs every page it finds too short or unparsable at WARNING; the reader already
# counts those as empty_extraction, so its log lines would only flood worker logs.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def html_charset(body: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """(python codec name, where it came from: bom | header | detected) for an HTML payload.

    Order as browsers (WHATWG): a byte-order mark, then the HTTP header's charset, then a
    `<meta charset>` in the first 1 KB, then uchardet's guess."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return enc, "bom"
    if http_charset:
        enc = map_encoding_to_html5(http_charset, fallback_utf8=False)
        if enc:
            return enc, "header"
    return detect_encoding(body, from_html_meta=True), "detected"


def decode_html(body: bytes, http_charset: str | None = None) -> str:
    """An HTML payload's text, decoded as `html_charset` says (undecodable bytes -> U+FFFD)."""
    enc, _ = html_charset(body, http_charset)
    return bytes_to_str(body, enc, errors="replace")


def _resiliparse(html: str, url: str | None) -> str:
    return extract_plain_text(html, main_content=True, alt_texts=False, links=False, list_bullets=True,
                              form_fields=False, noscript=False, comments=False)


def _trafilatura(html: str, url: str | None) -> str:
    # A fresh cache per page: deduplication within the page only, independent of call order.
    return _trafilatura_extract(html, url=url, output_format="txt", favor_precision=True, include_comments=False,
                                deduplicate=LRUCache(maxsize=LRU_SIZE)) or ""


def _grist(html: str, url: str | None) -> str:
    return _trafilatura(html, url) or _resiliparse(html, url)


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
        try:
            text = impl(html, url)
        except UnicodeError:  # lone surrogates (from a lax upstream decode): the parsers need valid UTF-8
            text = impl(html.encode("utf-8", "replace").decode("utf-8"), url)
    except Exception:  # noqa: BLE001 - a parser failure on one page is that page's empty extraction
        return ""
    return text.strip()

"""HTML -> main text. One function, several extractors, chosen by `read.extractor`.

(Interface stub: the extraction work of issue 10 fills this in and picks the default by F1 on
real pages with gold text; see benchmarks/bench_extraction.py.)
"""

from __future__ import annotations

from typing import Literal

from resiliparse.extract.html2text import extract_plain_text

Extractor = Literal["resiliparse"]
EXTRACTORS: tuple[str, ...] = ("resiliparse",)


def extract_main_text(html: str, url: str | None = None, extractor: str = "resiliparse") -> str:
    """The main content of one decoded HTML page as plain text ('' when there is none)."""
    if extractor == "resiliparse":
        return extract_plain_text(html, main_content=True)
    raise ValueError(f"unknown extractor {extractor!r}")

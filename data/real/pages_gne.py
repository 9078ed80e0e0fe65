"""Real saved Chinese news pages from gne 0.4.3's sdist (GeneralNewsExtractor's own test pages).

`tests/<site>/<n>.html` and `visiable_test/<site>/<n>.html` are article pages saved from Chinese
news sites (163, sina, qq, ifeng, thepaper, people, xinhuanet, ...); `test_list_page/` holds list
pages (163 news lists, tieba, a forum). They carry no gold text here beyond hand-written phrases in
gold/gne.json, if any. Their visible text, navigation and link lists included, is also written as
a Chinese web-text jsonl (web/zh/gne-pages.jsonl), the way a naive crawl export holds it.
"""

from __future__ import annotations

import json
from pathlib import Path

from fetch import Archive, pypi_sdist
from htmltext import decode_page, html_lines
from pagemeta import safe_name, text_lang

PACKAGE, VERSION = "gne", "0.4.3"
SHA256 = "26ed77fc2b96d5e9dd28b288ebfdeaf6bf7f034a92b8f75067c64eefffd0b4a9"
LICENSE = "GPL-3.0 (gne 0.4.3's LICENSE file; its pyproject says MIT)"
ARTICLE_DIRS = ("tests/", "visiable_test/")
LIST_DIR = "test_list_page/"
GOLD = Path(__file__).resolve().parent / "gold" / "gne.json"


def _archive() -> Archive:
    return Archive(pypi_sdist(PACKAGE, VERSION, SHA256))


def _html_paths(arc: Archive, dirs: tuple[str, ...]) -> list[str]:
    return [p for d in dirs for p in arc.names(d) if p.endswith(".html")]


def _gold() -> dict[str, dict]:
    return json.loads(GOLD.read_text(encoding="utf-8")) if GOLD.exists() else {}


def pages() -> list[tuple[dict, bytes]]:
    """(row, html bytes) for every Chinese article page; must / must_not from gold/gne.json."""
    arc, gold = _archive(), _gold()
    out = []
    for path in _html_paths(arc, ARTICLE_DIRS):
        html = arc.read(path)
        title, lines = html_lines(decode_page(html)[0])
        if text_lang("\n".join(lines)) != "zh":  # visiable_test/khan is a Korean page
            continue
        g = gold.get(path, {})
        for phrase in g.get("must", []) + g.get("must_not", []):  # a hand-written phrase must be on its page
            if phrase not in "\n".join(lines):
                raise SystemExit(f"real-data build: gold/gne.json: {phrase!r} is not on {path}")
        row = {"name": "gne-" + safe_name(path.removesuffix(".html").replace("/", "-")), "url": g.get("url"),
               "lang": "zh", "must": g.get("must", []), "must_not": g.get("must_not", []), "gold": None,
               "origin": f"{PACKAGE}=={VERSION}:{path}" + ("; phrases: data/real/gold/gne.json" if g else ""),
               "license": LICENSE}
        out.append((row, html))
    return out


def zh_docs() -> list[dict]:
    """One doc per Chinese page (articles and list pages): title + every visible text line."""
    arc = _archive()
    docs = []
    for path in _html_paths(arc, ARTICLE_DIRS + (LIST_DIR,)):
        text_, enc = decode_page(arc.read(path))
        title, lines = html_lines(text_)
        text = "\n".join([title] + lines if title else lines)
        if text_lang(text) != "zh":
            continue
        docs.append({"id": f"gne/{path}", "text": text, "origin": f"{PACKAGE}=={VERSION}:{path}",
                     "kind": "list_page" if path.startswith(LIST_DIR) else "article_page",
                     "source_encoding": enc, "license": LICENSE})
    return docs

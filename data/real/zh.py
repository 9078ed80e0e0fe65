"""Real Chinese text for web/zh/*.jsonl: one {"id","text","origin",...} document a line.

- gne-pages.jsonl: the visible text of gne 0.4.3's saved Chinese news / list pages (nav, link
  lists and ads included), as a naive crawl export holds it (pages_gne.py).
- chardet-feeds.jsonl: posts of real Chinese blog feeds, simplified (GB2312) and traditional
  (Big5), from chardet 5.2.0's test data (feeds.py): title line, then the post's text.
- fortunes-zh.jsonl: Debian's fortunes-zh 2.98 (sayings and BBS posts in `chinese`, Tang and Song
  poems in `tang300` / `song100`), one fortune a document, terminal colour codes removed.
"""

from __future__ import annotations

import re

import pages_gne
from fetch import Archive, deb

FORTUNES = ("fortunes-zh", "2.98", "211c5ddee59d0ae74ce01cbfd02f7c8714740bae1835d5661eb2254edd739105")
FORTUNE_FILES = ("chinese", "tang300", "song100")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def fortunes() -> list[dict]:
    name, version, sha = FORTUNES
    arc = Archive(deb(name, version, sha))
    docs = []
    for f in FORTUNE_FILES:
        path = f"usr/share/games/fortunes/{f}"
        for n, chunk in enumerate(arc.read(path).decode("utf-8").split("\n%\n")):
            text = _ANSI.sub("", chunk).strip("\n")
            if text.strip():
                docs.append({"id": f"fortunes-zh/{f}#{n}", "text": text, "origin": f"{name}={version} (Debian):/{path}",
                             "license": "GPL-3.0-or-later (Debian fortunes-zh)"})
    return docs


def feed_docs(posts: list[dict]) -> list[dict]:
    docs = []
    for p in posts:
        if p["lang"] != "zh" or not p["text"].strip():
            continue
        text = f"{p['title']}\n{p['text']}" if p["title"] else p["text"]
        docs.append({"id": f"chardet/{p['folder']}/{p['file']}#{p['n']}", "text": text, "url": p["url"],
                     "script": p["script"], "source_encoding": p["codec"], "origin": p["origin"],
                     "license": "copyright of the feed's publisher (chardet tests/README.txt)"})
    return docs


def files(posts: list[dict]) -> dict[str, list[dict]]:
    """file name in web/zh/ -> its documents."""
    return {"gne-pages.jsonl": pages_gne.zh_docs(), "chardet-feeds.jsonl": feed_docs(posts),
            "fortunes-zh.jsonl": fortunes()}

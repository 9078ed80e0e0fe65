"""Charset test pages (web/charset/): real CJK text as GBK, Big5 and Shift-JIS HTML pages.

Text: real blog posts from chardet 5.2.0's feeds (feeds.py): simplified Chinese from GB2312 feeds,
traditional from Big5 feeds, Japanese from Shift-JIS feeds. Each chosen post is wrapped in a
minimal HTML page and encoded three ways: charset in a `<meta>` ("meta"), charset only in the HTTP
Content-Type recorded in index.json ("header"), and declared nowhere ("none"). Plus chardet's three
real undeclared pages (`_chromium_*_with_no_encoding_specified.html`) as they are.

index.json: {file: {"encoding", "declared", "http_content_type", "lang", "script", "title",
"expected_text", "origin", "license"}}; expected_text is the page's visible text, one line per
paragraph (the title is separate).
"""

from __future__ import annotations

import html as htmllib

from fetch import Archive, pypi_sdist
from feeds import LICENSE, PACKAGE, SHA256, VERSION
from htmltext import html_lines
from pagemeta import cjk_count

# folder of chardet's feeds -> (file prefix, Python codec, label for meta / header, html lang)
TARGETS = {"GB2312": ("gbk", "gbk", "GBK", "zh-CN"), "Big5": ("big5", "big5", "Big5", "zh-TW"),
           "SHIFT_JIS": ("shift_jis", "shift_jis", "Shift_JIS", "ja")}
VARIANTS = ("meta", "header", "none")
PER_VARIANT = 2
# long enough, and CJK enough, that a detector has something to go on, as on a real article page
MIN_CHARS, MIN_CJK_SHARE = 300, 0.6
RAW = {"GB2312/_chromium_gb18030_with_no_encoding_specified.html.xml": ("gb18030", "zh", "simplified"),
       "Big5/_chromium_Big5_with_no_encoding_specified.html": ("big5", "zh", "traditional"),
       "SHIFT_JIS/_chromium_Shift-JIS_with_no_encoding_specified.html": ("shift_jis", "ja", None)}


def _encodes(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
        return True
    except UnicodeEncodeError:
        return False


def _choose(posts: list[dict], folder: str, codec: str, n: int) -> list[dict]:
    """The first n long, mostly-CJK posts of distinct feeds that the codec encodes exactly (file order)."""
    chosen, feeds_seen = [], set()
    for p in posts:
        body = p["title"] + p["text"]
        if (p["folder"] == folder and p["file"] not in feeds_seen and len(p["text"]) >= MIN_CHARS
                and cjk_count(p["text"]) >= MIN_CJK_SHARE * len(p["text"]) and _encodes(body, codec)):
            chosen.append(p)
            feeds_seen.add(p["file"])
            if len(chosen) == n:
                break
    return chosen


def _page(post: dict, label: str | None, lang: str) -> str:
    meta = f'<meta charset="{label}">\n' if label else ""
    paras = "\n".join(f"<p>{htmllib.escape(line)}</p>" for line in post["text"].split("\n"))
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n{meta}<title>{htmllib.escape(post["title"])}</title>\n'
            f"</head>\n<body>\n{paras}\n</body>\n</html>\n")


def files(posts: list[dict]) -> list[tuple[dict, bytes]]:
    out = []
    for folder, (prefix, codec, label, lang) in TARGETS.items():
        chosen = _choose(posts, folder, codec, PER_VARIANT * len(VARIANTS))
        if len(chosen) < PER_VARIANT * len(VARIANTS):
            raise SystemExit(f"real-data build: too few {folder} posts for charset pages in {PACKAGE}=={VERSION}")
        for i, post in enumerate(chosen):
            variant, k = VARIANTS[i % len(VARIANTS)], i // len(VARIANTS) + 1
            page = _page(post, label if variant == "meta" else None, lang)
            row = {"file": f"{prefix}-{variant}-{k}.html", "encoding": codec, "declared": variant,
                   "http_content_type": f"text/html; charset={label}" if variant == "header" else "text/html",
                   "lang": post["lang"], "script": post["script"], "title": post["title"],
                   "expected_text": post["text"], "origin": post["origin"], "license": LICENSE}
            out.append((row, page.encode(codec)))
    arc = Archive(pypi_sdist(PACKAGE, VERSION, SHA256))
    for path, (codec, lang, script) in RAW.items():
        raw = arc.read(f"tests/{path}")
        title, lines = html_lines(raw.decode(codec))
        name = path.rsplit("/", 1)[1].removesuffix(".xml")
        row = {"file": f"chardet-{name}", "encoding": codec, "declared": "none", "http_content_type": "text/html",
               "lang": lang, "script": script, "title": title, "expected_text": "\n".join(lines),
               "origin": f"{PACKAGE}=={VERSION}:tests/{path}", "license": LICENSE}
        out.append((row, raw))
    return out

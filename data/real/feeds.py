"""Real CJK blog feeds from chardet 5.2.0's test data, in the encodings their sites served.

`tests/GB2312/`, `tests/Big5/`, `tests/SHIFT_JIS/` hold RSS / Atom feeds "downloaded from random
sites" (circa 2005) in those encodings (tests/README.txt). Each feed item becomes one post:
title and the text of its HTML body.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from fetch import Archive, pypi_sdist
from htmltext import html_lines

PACKAGE, VERSION = "chardet", "5.2.0"
SHA256 = "1b3b6ff479a8c414bc3fa2c0852995695c4a026dcd6d0633b2dd092ca39c1cf7"
LICENSE = "feeds: copyright of their publishers (chardet tests/README.txt); chardet itself LGPL-2.1"
# folder -> (codecs to try, strictest first; lang, script)
FOLDERS = {
    "GB2312": (("gb2312", "gbk", "gb18030"), "zh", "simplified"),
    "Big5": (("big5", "cp950", "big5hkscs"), "zh", "traditional"),
    "SHIFT_JIS": (("shift_jis", "cp932"), "ja", None),
}
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_BODY_TAGS = ("encoded", "content", "description", "summary")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _html_of(elem: ET.Element) -> str:
    """An item field as HTML: its escaped / CDATA text, or its inline XHTML children."""
    if len(elem):
        return "".join(ET.tostring(c, encoding="unicode") for c in elem)
    return elem.text or ""


def _decode(raw: bytes, codecs: tuple[str, ...]) -> tuple[str, str] | None:
    for codec in codecs:
        try:
            return raw.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return None


def posts() -> list[dict]:
    """{"folder","file","n","codec","lang","script","title","text","url","origin"} per feed item, in file order.

    Files that are not well-formed feeds or decode with none of their codecs are left out."""
    arc = Archive(pypi_sdist(PACKAGE, VERSION, SHA256))
    out = []
    for folder, (codecs, lang, script) in FOLDERS.items():
        for path in arc.names(f"tests/{folder}/"):
            dec = _decode(arc.read(path), codecs)
            if dec is None:
                continue
            try:
                root = ET.fromstring(_XML_DECL.sub("", dec[0]))
            except ET.ParseError:
                continue
            items = [e for e in root.iter() if _local(e.tag) in ("item", "entry")]
            for n, item in enumerate(items):
                fields = {_local(c.tag): c for c in item}
                title = " ".join(html_lines(_html_of(fields["title"]))[1]) if "title" in fields else ""
                body = next((fields[t] for t in _BODY_TAGS if t in fields), None)
                lines = html_lines(_html_of(body))[1] if body is not None else []
                link = fields.get("link")
                url = (link.text or link.get("href") or "").strip() if link is not None else ""
                out.append({"folder": folder, "file": path.rsplit("/", 1)[1], "n": n, "codec": dec[1],
                            "lang": lang, "script": script, "title": title, "text": "\n".join(lines),
                            "url": url or None, "origin": f"{PACKAGE}=={VERSION}:{path} (item {n})"})
    return out

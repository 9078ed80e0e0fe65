"""`encyclopedia` sources: MediaWiki XML export dumps (`.xml`, `.xml.bz2`, `.xml.gz`).

Streamed through an lxml pull parser on `{*}page` (any export-schema version), each page cleared
after use, so memory is one page. Per page: namespace != 0 -> Drop("non_article_namespace"),
redirect -> Drop("redirect"), no revision text -> Drop("malformed_page"); otherwise the wikitext
is rendered to plain text with mwparserfromhell. A cut or malformed file yields the pages parsed
before the fault, then one Drop ("truncated_bz2", "truncated_gzip", "malformed_xml", ...).
"""

from __future__ import annotations

import re
from typing import Iterator

import mwparserfromhell
from lxml import etree
from mwparserfromhell.nodes import ExternalLink, Heading, HTMLEntity, Tag, Text, Wikilink
from mwparserfromhell.wikicode import Wikicode

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc, Drop, Record
from pipelines.sources.compression import STREAM_ERRORS, open_decompressed, stream_error_reason

# Tags whose content is not prose: footnotes, tables, galleries, maths, code, maps, ...
_DROP_TAGS = frozenset({
    "ref", "references", "table", "gallery", "math", "chem", "ce", "score", "timeline", "graph", "imagemap",
    "inputbox", "templatedata", "templatestyles", "categorytree", "source", "syntaxhighlight", "style",
    "script", "mapframe", "maplink", "indicator",
})
# Media and category links carry no prose; nor do interlanguage links ("de:Berlin": a lowercase
# language prefix, while article titles are capitalised). A leading ':' makes any of them inline.
_MEDIA_PREFIXES = frozenset({"file", "image", "media", "category", "datei", "bild", "kategorie", "fichier", "catégorie"})
_INTERLANG = re.compile(r"^\s*[a-z]{2,3}(?:-[a-z]+)*\s*:")
_MAGIC_WORD = re.compile(r"__[A-Z]+__")
_BLANKS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+")
_CHUNK = 1 << 16


def _link_removed(title: str) -> bool:
    prefix, colon, _ = title.partition(":")
    return bool(colon) and (prefix.strip().lower() in _MEDIA_PREFIXES or bool(_INTERLANG.match(title)))


def _plain(code: Wikicode) -> str:
    out: list[str] = []
    for node in code.nodes:
        if isinstance(node, Text):
            out.append(node.value)
        elif isinstance(node, Wikilink):
            title = str(node.title)
            if title.lstrip().startswith(":"):  # [[:Category:X]] is a visible link
                title = title.lstrip()[1:]
            elif _link_removed(title):
                continue
            out.append(_plain(node.text) if node.text is not None else title.strip())
        elif isinstance(node, Heading):
            out.append(_plain(node.title).strip())
        elif isinstance(node, Tag):
            tag = str(node.tag).strip().lower()
            if tag in _DROP_TAGS:
                continue
            if tag == "br":
                out.append("\n")
            elif node.contents is not None:
                out.append(_plain(node.contents))
        elif isinstance(node, ExternalLink):
            if node.title is not None:
                out.append(_plain(node.title))
            elif not node.brackets:
                out.append(str(node.url))
        elif isinstance(node, HTMLEntity):
            out.append(node.normalize())
        # Template, Comment, Argument: dropped (templates are mostly infoboxes and citations).
    return "".join(out)


def wikitext_to_text(wikitext: str) -> str:
    """Plain prose from wikitext: templates, refs, tables, media/category links, markup removed;
    `[[link|label]]` -> label; headings kept as their own lines."""
    text = _plain(mwparserfromhell.parse(wikitext))
    text = _MAGIC_WORD.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return el.find(f"{{*}}{name}")


def _page(page: etree._Element) -> Record:
    title = page.findtext("{*}title")
    page_id = page.findtext("{*}id")
    ns = (page.findtext("{*}ns") or "0").strip()
    meta = {"title": title, "page_id": page_id, "ns": ns}
    if ns != "0":
        return Drop("non_article_namespace", meta=meta)
    revision = _child(page, "revision")
    text_el = _child(revision, "text") if revision is not None else None
    raw = text_el.text if text_el is not None else None
    if _child(page, "redirect") is not None or (raw or "").lstrip()[:9].upper() == "#REDIRECT":
        return Drop("redirect", meta=meta)
    if title is None or revision is None or text_el is None:
        return Drop("malformed_page", meta=meta)
    meta["timestamp"] = revision.findtext("{*}timestamp")
    meta["revision_id"] = revision.findtext("{*}id")
    text = wikitext_to_text(raw or "")
    if not text:
        return Drop("empty_text", meta=meta)
    return Doc(text=text, meta=meta)


def _free(page: etree._Element) -> None:
    """Drop a processed page and its processed siblings, so memory stays at one page."""
    page.clear()
    parent = page.getparent()
    while parent is not None and page.getprevious() is not None:
        del parent[0]


def read_encyclopedia(path: str, src: SourceConfig, cfg: ReadConfig) -> Iterator[Record]:
    # A pull parser fed chunk by chunk (rather than iterparse reading the stream itself): every page
    # completed before a stream error or a syntax error has been handed out when the error comes.
    # huge_tree: one page can exceed libxml2's 10 MB text-node limit.
    parser = etree.XMLPullParser(events=("end",), tag="{*}page", huge_tree=True, resolve_entities=False,
                                 no_network=True)
    any_byte = any_page = False
    try:
        with open_decompressed(path) as stream:
            read = getattr(stream, "read1", stream.read)
            while chunk := read(_CHUNK):
                any_byte = True
                try:
                    parser.feed(chunk)
                finally:
                    for _, page in parser.read_events():
                        any_page = True
                        yield _page(page)
                        _free(page)
            if not any_byte:
                yield Drop("empty_file")
                return
            parser.close()
    except etree.XMLSyntaxError:
        yield Drop("malformed_xml")
        return
    except STREAM_ERRORS as exc:
        yield Drop(stream_error_reason(path, exc))
        return
    if not any_page:
        yield Drop("no_pages")

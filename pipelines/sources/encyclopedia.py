"""`encyclopedia` sources: MediaWiki XML export dumps (`.xml`, `.xml.bz2`, `.xml.gz`).

Streamed through an lxml pull parser on `{*}page` (any export-schema version), each page cleared
after use, so memory is one page. Per page: namespace != 0 -> Drop("non_article_namespace"),
redirect -> Drop("redirect"), no revision text -> Drop("malformed_page"); otherwise the wikitext
is rendered to plain prose (pipelines/sources/wikitext.py: refs, templates, tables, media and
category links, trailing References / External links / See also ... sections removed; options in
`read.encyclopedia`). A cut or malformed file yields the pages parsed before the fault, then one
Drop ("truncated_bz2", "truncated_gzip", "malformed_xml", ...).
"""

from __future__ import annotations

from typing import Iterator

from lxml import etree

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc, Drop, Record
from pipelines.sources.compression import STREAM_ERRORS, open_decompressed, stream_error_reason
from pipelines.sources.reader_config import EncyclopediaConfig
from pipelines.sources.wikitext import wikitext_to_text

_CHUNK = 1 << 16


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return el.find(f"{{*}}{name}")


def _page(page: etree._Element, cfg: EncyclopediaConfig, sections: list[str]) -> Record:
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
    text, residue = wikitext_to_text(raw or "", cfg.tables, sections)
    if residue:  # unbalanced markup removed token by token: the page's wikitext is broken there
        meta["markup_residue"] = residue
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
    sections = [name for names in cfg.encyclopedia.drop_sections.values() for name in names]
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
                        yield _page(page, cfg.encyclopedia, sections)
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

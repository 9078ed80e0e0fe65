"""EPUB 2 and 3 books to text.

container.xml -> OPF rootfile -> metadata (title, author, language), manifest, spine. Spine
documents are read in spine order, each file once (a spine may name one file many times through
fragment hrefs: `chapter.xhtml#o8`). Not read, each counted in the doc's meta `skipped`:
- the EPUB 3 navigation document (manifest `properties="nav"`), non-linear items (`linear="no"`,
  unless `books.epub_nonlinear`), non-HTML items (an SVG cover);
- documents whose declared type (EPUB 2 `<guide>` reference, EPUB 3 landmarks, the `epub:type` or
  `role` of the body or its first section) is in `books.skip_matter`: cover, copyright page,
  colophon, index, ... by default. A table of contents declared in the guide or landmarks is judged
  by its content instead (Sphinx declares its first chapter, prose and all, the TOC);
- documents that are a table of contents by their content (most of their text is link text), and
  short documents with a copyright line among the first or last three of the spine.
Inside a document (lxml), navigation (`<nav>`, `role="navigation"`, link lists), sections of a
skipped type, page-break markers, page footers and paragraph-number links are removed before HTML to
text (resiliparse).

A spine document whose zip member is damaged (a bad CRC, corrupt deflate data) costs that
document, counted in the meta's `damaged_chapters`; a book with none left is `corrupt_epub`.

Encoding of each document: a byte-order mark, else the XML declaration's `encoding`, else a
`<meta charset>`, else UTF-8 (the XML default) if the bytes are valid UTF-8, else detected.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from urllib.parse import unquote

import lxml.html
from lxml import etree
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding

from pipelines.sources.reader_config import BooksConfig


class CorruptEpub(Exception):
    pass


_HTML_TYPES = {"application/xhtml+xml", "text/html", "application/xml", "text/xml", "application/x-dtbook+xml"}
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# An undeclared document this short, near either end of the spine, with a copyright line is a
# copyright page (calibre's Quick Start Guide: title, edition, author, "Copyright © 2010-2014 ...";
# the Live Systems Manual's last page: rights, licence, generator: 1375 characters).
COPYRIGHT_PAGE_CHARS = 2000
EDGE_DOCUMENTS = 3
_COPYRIGHT = re.compile(r"copyright|©|\(c\) \d{4}|all rights reserved|\bISBN\b", re.IGNORECASE)
# A document (or list) whose text is at least this share link text is navigation.
TOC_LINK_SHARE = 0.7  # measured: calibre's toc.xhtml 0.97, Live Systems Manual's index 0.78; a
# chapter that introduces a list of links to its sections (calibre's common_tasks.xhtml) 0.62
LIST_LINK_SHARE = 0.8
# Navigation (removed while "toc" is skipped): epub:type values and ARIA roles (doc- prefix dropped).
_NAV_TYPES = {"toc", "landmarks", "page-list", "pagelist", "navigation"}
# Page-break markers, Gutenberg's page numbers (class "pagenum": "[Pg 12]"), page headers and
# footers (Sphinx's "© Copyright ... Created using Sphinx" under every chapter): never prose.
_PAGE_MARKS = {"pagebreak", "contentinfo", "banner"}
_XML_DECL_STR = re.compile(r"^\s*<\?xml[^>]*\?>")


def _xml(zf: zipfile.ZipFile, name: str) -> etree._Element:
    try:
        data = zf.read(name)
    except KeyError:
        raise CorruptEpub(f"missing {name}") from None
    # no network, no entities: an epub is untrusted input
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    return etree.fromstring(data, parser)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _children(parent: etree._Element | None, name: str) -> list[etree._Element]:
    """Namespace-agnostic: EPUB 2 and 3 OPFs differ in prefixes and some tools omit namespaces."""
    if parent is None:
        return []
    return [el for el in parent.iter() if _local(el) == name]


def _texts(parent: etree._Element | None, name: str) -> list[str]:
    return [el.text.strip() for el in _children(parent, name) if el.text and el.text.strip()]


def _kind(value: str | None) -> set[str]:
    """Structural types from an epub:type / role / guide type value: 'doc-toc' -> 'toc', 'title-page' -> 'titlepage'."""
    return {t.removeprefix("doc-").replace("title-page", "titlepage") for t in (value or "").lower().split()}


def decode_markup(data: bytes) -> tuple[str, str]:
    """(text, encoding) of an (X)HTML document: BOM, XML declaration, meta charset, UTF-8, detection."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc.removesuffix("-sig")
    declared = _XML_DECL.match(data) or _META_CHARSET.search(data, 0, 4096)
    candidates = [declared.group(1).decode("ascii").lower()] if declared else []
    for enc in candidates + ["utf-8"]:
        try:
            return data.decode(enc), codecs.lookup(enc).name
        except (LookupError, UnicodeDecodeError):
            continue
    enc = detect_encoding(data, html5_compatible=True)
    return bytes_to_str(data, enc, errors="replace"), enc


@dataclass
class _Item:
    path: str
    media_type: str
    properties: set[str]


def _parse(markup: str) -> lxml.html.HtmlElement | None:
    try:  # lxml refuses a str that still carries its XML encoding declaration
        return lxml.html.document_fromstring(_XML_DECL_STR.sub("", markup, count=1))
    except (etree.ParserError, ValueError):
        return None


def _types(el: lxml.html.HtmlElement) -> set[str]:
    return _kind(el.get("epub:type")) | _kind(el.get("role"))


def _landmarks(zf: zipfile.ZipFile, nav_path: str | None) -> dict[str, set[str]]:
    """EPUB 3: {document path: types} from the navigation document's landmarks."""
    try:
        root = _parse(decode_markup(zf.read(nav_path))[0]) if nav_path else None
    except KeyError:
        root = None
    out: dict[str, set[str]] = {}
    for nav in root.iter("nav") if root is not None else []:
        if "landmarks" in _types(nav):
            for a in nav.iter("a"):
                if a.get("href"):
                    path = _resolve(posixpath.dirname(nav_path), a.get("href"))
                    out.setdefault(path, set()).update(_types(a))
    return out


def _resolve(base: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0])))


def _chars(text: str) -> int:
    return len(text) - sum(map(text.count, " \t\n\r\xa0"))


def _link_share(el: lxml.html.HtmlElement) -> tuple[float, int]:
    """(share of the element's visible characters inside links, number of links)."""
    text = _chars(el.text_content())
    links = [a for a in el.iter("a") if a.get("href")]
    linked = sum(_chars(a.text_content()) for a in links)
    return (linked / text if text else 0.0), len(links)


def _clean(markup: str, skip: set[str], edge: bool) -> str | None:
    """Navigation and skipped sections removed; None when the document is itself of a skipped type,
    a table of contents, or (`edge`: among the first or last spine documents) a copyright page."""
    root = _parse(markup)
    body = root.find("body") if root is not None else None
    if body is None:
        return ""
    declared = _types(body)
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) == 1 and children[0].tag in ("section", "div", "article"):
        declared |= _types(children[0])  # a body that is one typed section
    if declared & skip:
        return None
    toc = "toc" in skip
    drop = skip | _PAGE_MARKS | (_NAV_TYPES if toc else set())
    doomed = [el for el in body.iterdescendants() if isinstance(el.tag, str)
              and ((toc and el.tag == "nav") or _types(el) & drop
                   or "pagenum" in (el.get("class") or "").split()
                   # paragraph / line numbers linking to their own anchor
                   or (el.tag == "a" and (el.get("href") or "").startswith("#") and el.text_content().strip().isdigit()))]
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()
    if toc:
        share, links = _link_share(body)
        if links >= 5 and share >= TOC_LINK_SHARE:
            return None
        for el in [el for el in body.iter("ul", "ol")]:
            share, links = _link_share(el)
            if links >= 3 and share >= LIST_LINK_SHARE and el.getparent() is not None:
                el.drop_tree()
    html = lxml.html.tostring(root, encoding="unicode")
    text = extract_plain_text(html, preserve_formatting=True, main_content=False, list_bullets=True).strip()
    if edge and "copyright-page" in skip and len(text) <= COPYRIGHT_PAGE_CHARS and _COPYRIGHT.search(text):
        return None
    return text


def epub_book(zf: zipfile.ZipFile, cfg: BooksConfig, limit: int) -> tuple[str, dict]:
    """(text, meta) of an EPUB; reading stops once `limit` characters are collected."""
    container = _xml(zf, "META-INF/container.xml")
    rootfiles = _children(container, "rootfile")
    opf_path = rootfiles[0].get("full-path") if rootfiles else None
    if not opf_path:
        raise CorruptEpub("no rootfile")
    opf = _xml(zf, opf_path)
    base = posixpath.dirname(opf_path)
    metadata = next(iter(_children(opf, "metadata")), None)
    titles, authors, languages = _texts(metadata, "title"), _texts(metadata, "creator"), _texts(metadata, "language")
    manifest = {el.get("id"): _Item(_resolve(base, el.get("href")), (el.get("media-type") or "").lower(),
                                    set((el.get("properties") or "").split()))
                for el in _children(opf, "item") if el.get("href")}
    spine = _children(opf, "itemref")
    if not spine:
        raise CorruptEpub("empty spine")
    nav_path = next((it.path for it in manifest.values() if "nav" in it.properties), None)
    declared = _landmarks(zf, nav_path)
    for ref in _children(opf, "reference"):
        if ref.get("href"):
            declared.setdefault(_resolve(base, ref.get("href")), set()).update(_kind(ref.get("type")))
    skip = set(cfg.skip_matter)
    chapters: list[str] = []
    skipped: Counter = Counter()
    encodings: Counter = Counter()
    seen: set[str] = set()
    missing = damaged = size = 0
    for n, ref in enumerate(spine):
        item = manifest.get(ref.get("idref"))
        if item is None:
            missing += 1
            continue
        reason = ("repeated" if item.path in seen else "nav" if item.path == nav_path
                  else "nonlinear" if ref.get("linear", "yes").lower() == "no" and not cfg.epub_nonlinear
                  else "not_html" if item.media_type not in _HTML_TYPES
                  else next(iter(sorted(declared.get(item.path, set()) & skip - {"toc"})), None))
        seen.add(item.path)
        if reason:
            skipped[reason] += 1
            continue
        try:
            data = zf.read(item.path)
        except KeyError:
            missing += 1
            continue
        except (zipfile.BadZipFile, zlib.error, EOFError):  # a damaged member (bad CRC, corrupt deflate):
            damaged += 1  # it costs that chapter, not the book
            continue
        html, enc = decode_markup(data)
        encodings[enc] += 1
        text = _clean(html, skip, n < EDGE_DOCUMENTS or n >= len(spine) - EDGE_DOCUMENTS)
        if text is None:
            skipped["matter_or_toc"] += 1
            continue
        if text:
            chapters.append(text)
            size += len(text)
        if size > limit:  # the read stage would cut the rest anyway
            break
    meta = {"title": titles[0] if titles else None, "author": "; ".join(authors) or None,
            "language": languages[0] if languages else None, "chapters": len(chapters),
            "missing_chapters": missing, "skipped": dict(sorted(skipped.items())),
            "encoding": encodings.most_common(1)[0][0] if encodings else None}
    if damaged:
        if not chapters:
            raise CorruptEpub(f"{damaged} damaged chapters and none read")
        meta["damaged_chapters"] = damaged
    return "\n\n".join(chapters), meta

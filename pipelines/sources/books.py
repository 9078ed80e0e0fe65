"""`books` sources: plain-text books (`.txt`, `.txt.gz`, Project Gutenberg style) and EPUB files.
One book is one Doc.

Text files: the Gutenberg header (up to the `*** START OF ...` marker) and licence footer (from the
`*** END OF ...` marker, or the older `End of the Project Gutenberg EBook` line) are cut; a text
without markers is kept whole. UTF-8 first; otherwise the encoding is detected (uchardet) and
recorded in meta (`encoding`, `encoding_fallback`).

EPUB: container.xml -> OPF rootfile -> manifest + spine; chapters in spine (reading) order, XHTML
to text with resiliparse; title and author from the OPF's Dublin Core metadata.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import zipfile
import zlib
from typing import Iterator
from urllib.parse import unquote

from lxml import etree
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc, Drop, Record
from pipelines.sources.compression import STREAM_ERRORS, open_decompressed, stream_error_reason
from pipelines.sources.files import open_binary

# A book is read up to this many times max_doc_bytes (the read stage truncates the text to
# max_doc_bytes anyway; the slack leaves room for a header and licence footer to be cut first).
BOOK_BYTES_PER_TEXT_BYTE = 2

_START = re.compile(
    r"^[ \t]*\*{3}[ \t]*START OF (?:THE |THIS )?PROJECT GUTENBERG E-?BOOK[^\n]*(?:\n[^\n*]*){0,3}?\*{3}[^\n]*$"
    r"|^\*END\*THE SMALL PRINT![^\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
_END = re.compile(
    r"^[ \t]*\*{3}[ \t]*END OF (?:THE |THIS )?PROJECT GUTENBERG E-?BOOK"
    r"|^[ \t]*End of (?:the |this )?Project Gutenberg\b",
    re.IGNORECASE | re.MULTILINE,
)


def strip_gutenberg(text: str) -> tuple[str, bool]:
    """(body without Gutenberg header and footer, whether a marker was found)."""
    start = _START.search(text)
    begin = start.end() if start else 0
    end = _END.search(text, begin)
    stop = end.start() if end else len(text)
    return text[begin:stop].strip(), bool(start or end)


def decode_text(raw: bytes, cut: bool) -> tuple[str, str]:
    """(text, encoding): strict UTF-8, else the detected encoding. `cut`: the bytes end mid-file,
    so an incomplete UTF-8 sequence at the very end is not evidence of another encoding."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(raw, final=not cut)
        return text.removeprefix("\ufeff"), "utf-8"
    except UnicodeDecodeError:
        enc = detect_encoding(raw, html5_compatible=True)
        # bytes_to_str falls back to cp1252 if the guess does not decode, and never raises.
        return bytes_to_str(raw, enc, errors="replace"), enc


def _read_text(path: str, src: SourceConfig, cfg: ReadConfig) -> Iterator[Record]:
    limit = cfg.max_doc_bytes * BOOK_BYTES_PER_TEXT_BYTE
    try:
        with open_decompressed(path) as f:
            raw = f.read(limit)
            # also how a cut stream shows: read() hands out the bytes before the cut first
            cut = f.read(1) != b""
    except STREAM_ERRORS as exc:
        # One book per file: a cut archive is not a book (the ending is gone).
        yield Drop(stream_error_reason(path, exc))
        return
    if not raw.strip():
        yield Drop("empty_file")
        return
    text, enc = decode_text(raw, cut)
    body, marked = strip_gutenberg(text)
    if not body:
        yield Drop("empty_text")
        return
    meta = {"encoding": enc, "encoding_fallback": enc != "utf-8", "gutenberg_markers": marked}
    if cut:
        meta["input_truncated"] = True
    yield Doc(text=body, meta=meta)


# --- EPUB ------------------------------------------------------------------------------------

class CorruptEpub(Exception):
    pass


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


def _epub_book(zf: zipfile.ZipFile, limit: int) -> tuple[str, dict]:
    container = _xml(zf, "META-INF/container.xml")
    rootfiles = _children(container, "rootfile")
    opf_path = rootfiles[0].get("full-path") if rootfiles else None
    if not opf_path:
        raise CorruptEpub("no rootfile")
    opf = _xml(zf, opf_path)
    base = posixpath.dirname(opf_path)
    metadata = next(iter(_children(opf, "metadata")), None)
    title = next((el.text.strip() for el in _children(metadata, "title") if el.text and el.text.strip()), None)
    authors = [el.text.strip() for el in _children(metadata, "creator") if el.text and el.text.strip()]
    language = next((el.text.strip() for el in _children(metadata, "language") if el.text), None)
    manifest = {el.get("id"): el for el in _children(opf, "item")}
    spine = _children(opf, "itemref")
    if not spine:
        raise CorruptEpub("empty spine")
    chapters: list[str] = []
    missing = 0
    size = 0
    for ref in spine:
        item = manifest.get(ref.get("idref"))
        if item is None or not item.get("href"):
            missing += 1
            continue
        name = posixpath.normpath(posixpath.join(base, unquote(item.get("href").split("#")[0])))
        try:
            data = zf.read(name)
        except KeyError:
            missing += 1
            continue
        html = bytes_to_str(data, detect_encoding(data, from_html_meta=True), errors="replace")
        text = extract_plain_text(html, preserve_formatting=True, main_content=False, list_bullets=True).strip()
        if text:
            chapters.append(text)
            size += len(text)
        if size > limit:  # the read stage would cut the rest anyway
            break
    meta = {"title": title, "author": "; ".join(authors) or None, "language": language,
            "chapters": len(chapters), "missing_chapters": missing}
    return "\n\n".join(chapters), meta


def _read_epub(path: str, cfg: ReadConfig) -> Iterator[Record]:
    try:
        with open_binary(path) as f, zipfile.ZipFile(f) as zf:
            text, meta = _epub_book(zf, cfg.max_doc_bytes)
    except (zipfile.BadZipFile, CorruptEpub, etree.XMLSyntaxError, EOFError, ValueError, zlib.error):
        yield Drop("corrupt_epub")
        return
    if not text.strip():
        yield Drop("empty_text", meta=meta)
        return
    yield Doc(text=text, meta=meta)


def read_books(path: str, src: SourceConfig, cfg: ReadConfig) -> Iterator[Record]:
    if path.lower().endswith(".epub"):
        yield from _read_epub(path, cfg)
    else:
        yield from _read_text(path, src, cfg)

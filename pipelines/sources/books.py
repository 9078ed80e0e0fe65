"""`books` sources: plain-text books (`.txt`, `.txt.gz`, Project Gutenberg style) and EPUB files.
One book is one Doc.

Text files: UTF-8 first; otherwise the encoding is detected (uchardet) and recorded in meta
(`encoding`, `encoding_fallback`). Project Gutenberg header, footer, credits and transcriber's notes
are cut, every generation of the markers (pipelines/sources/gutenberg.py); title, author and
language from the header go to meta. A text without markers is kept whole. Line endings and
control characters (CRLF, the DOS end-of-file 0x1a) are left to the read stage, which normalises
every source's text and counts it.

EPUB: pipelines/sources/epub.py (spine order, navigation / TOC / front and back matter skipped as
`read.books` says, encoding from the XML declaration); the text then goes through the same
Gutenberg cut, since Gutenberg EPUBs carry the licence as chapters.
"""

from __future__ import annotations

import codecs
import zipfile
import zlib
from typing import Iterator

from lxml import etree
from resiliparse.parse.encoding import bytes_to_str, detect_encoding

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc, Drop, Record
from pipelines.sources.compression import STREAM_ERRORS, open_decompressed, stream_error_reason
from pipelines.sources.epub import CorruptEpub, epub_book
from pipelines.sources.files import open_binary
from pipelines.sources.gutenberg import gutenberg_book, strip_gutenberg

# A book is read up to this many times max_doc_bytes (the read stage truncates the text to
# max_doc_bytes anyway; the slack leaves room for a header and licence footer to be cut first).
BOOK_BYTES_PER_TEXT_BYTE = 2

__all__ = ["read_books", "strip_gutenberg", "decode_text"]


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
    body, marked, header_meta = gutenberg_book(text)
    meta = {"encoding": enc, "encoding_fallback": enc != "utf-8", "gutenberg_markers": marked, **header_meta}
    if not body.strip("\x00\x1a \t\r\n"):  # a DOS end-of-file mark alone is no text either
        yield Drop("empty_text", meta=meta)
        return
    if cut:
        meta["input_truncated"] = True
    yield Doc(text=body, meta=meta)


def _read_epub(path: str, cfg: ReadConfig) -> Iterator[Record]:
    try:
        with open_binary(path) as f, zipfile.ZipFile(f) as zf:
            text, meta = epub_book(zf, cfg.books, cfg.max_doc_bytes)
    except (zipfile.BadZipFile, CorruptEpub, etree.XMLSyntaxError, EOFError, ValueError, zlib.error):
        yield Drop("corrupt_epub")
        return
    text, marked = strip_gutenberg(text)
    if marked:
        meta["gutenberg_markers"] = True
    if not text.strip():
        yield Drop("empty_text", meta=meta)
        return
    yield Doc(text=text, meta=meta)


def read_books(path: str, src: SourceConfig, cfg: ReadConfig) -> Iterator[Record]:
    if path.lower().endswith(".epub"):
        yield from _read_epub(path, cfg)
    else:
        yield from _read_text(path, src, cfg)

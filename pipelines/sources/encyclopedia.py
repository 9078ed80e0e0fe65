"""`encyclopedia` sources: MediaWiki XML export dumps (`.xml`, `.xml.bz2`, `.xml.gz`).

The decompressed stream is cut into pages at the byte level (`<page>` ... `</page>`: in a dump's
XML a `<` in text is always `&lt;`, so these tags cannot occur inside a page's text) and each page
is parsed on its own by lxml, so memory is one page and a damaged page costs that page only:
reading resynchronises at the next `<page>`. Per page: namespace != 0 -> Drop("non_article_namespace"),
redirect -> Drop("redirect"), no revision text -> Drop("malformed_page"); otherwise the wikitext is
rendered to plain prose (pipelines/sources/wikitext.py: refs, templates, tables, media and category
links, trailing References / External links / See also ... sections removed; options in
`read.encyclopedia`).

A damaged page is one Drop, whose meta holds `offset` (its byte offset in the decompressed stream,
in UTF-8 bytes for a file transcoded from another encoding), the `title` and `page_id` when they can
still be read, and `error`:

    nul_byte          the page holds a NUL byte (no XML document may)
    invalid_utf8      the page's bytes are not UTF-8
    malformed_xml     the page's XML does not parse, or a page is not closed before the next
                      `<page>` (or the end of a complete file), or a `</page>` has no `<page>`
    truncated_xml     the stream ends inside a page or before `</mediawiki>` (plain or cleanly
                      ended compressed stream); a cut compressed stream is named by
                      pipelines.sources.compression ("truncated_bz2", "truncated_gzip")
    corrupt_bz2       a corrupt bz2 stream (a multistream dump holds ~100 pages per stream) or
    corrupt_gzip      gzip member lost (a part of) this page; reading goes on at the next stream.
                      Pages lost whole with it cannot be counted: one drop, with the offset only

A file in another encoding (UTF-16 with a byte-order mark, as gensim's bgwiki test dump, or an
encoding named by the XML declaration) is transcoded to UTF-8 chunk by chunk first.

A page without `<ns>` (export schema before 0.5) takes the namespace its title's prefix names in
the dump's `<siteinfo>`. A large dump is read in pieces (`byte_range`, pipelines/sources/pieces.py):
a piece owns the pages whose start tag lies in its range (a multistream .bz2 / multi-member .gz:
in the streams that start in it) and reads the dump's head for its encoding and namespaces, so the
pieces of a dump read exactly its pages. Offsets in a compressed piece's drops count from its
first stream (`from_offset`). A single-stream or transcoded dump is read whole by its first piece.
"""

from __future__ import annotations

import codecs
import html
import re
from typing import IO, Iterator

from lxml import etree

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources import pieces
from pipelines.sources.base import Doc, Drop, Note, Record
from pipelines.sources.compression import STREAM_ERRORS, compression_of, one_ahead, open_decompressed, \
    stream_error_reason, stream_gaps
from pipelines.sources.reader_config import EncyclopediaConfig
from pipelines.sources.wikitext import wikitext_to_text

_CHUNK = 1 << 16
# A page's start or end tag (the lookahead keeps `<pages>` out). A tag cut by a chunk boundary is
# found once the next chunk is in: the search restarts _TAG_LEN bytes before the buffer's end.
_TAG = re.compile(rb"<(/?)page(?=[\s>])")
_TAG_LEN = len(b"</page ")
_ROOT_END = re.compile(rb"</(?:[\w.-]+:)?mediawiki\s*>")
_MAX_GAP = 1 << 16  # bytes kept between pages: the provenance of a page whose start tag is broken
_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_TITLE = re.compile(rb"<title>([^<]{0,2000})</title>")
_PAGE_ID = re.compile(rb"<id>\s*(\d{1,20})\s*</id>")
_PROVENANCE_BYTES = 1 << 16  # a damaged page's title and id are looked for in its first bytes
_NAMESPACE = re.compile(rb'<namespace\b[^>]*?\bkey="(-?\d+)"[^>]*>([^<]*)</namespace>')
_HEAD_BYTES = 1 << 20  # a dump's head (`<siteinfo>`) is read up to its first page, at most this much
_PAGE_STARTS = ("page", "unclosed", "open_at_end")  # items that begin at a page's start tag


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return el.find(f"{{*}}{name}")


def _namespaces(head: bytes) -> dict[str, str]:
    """The `<siteinfo>` namespaces of a dump's head: {casefolded name: key}."""
    out = {}
    for key, name in _NAMESPACE.findall(head):
        name = html.unescape(name.decode("utf-8", errors="replace")).strip().replace("_", " ").casefold()
        if name:
            out.setdefault(name, key.decode("ascii"))
    return out


def _title_namespace(title: str | None, namespaces: dict[str, str]) -> str:
    """A page's namespace from its title's prefix (exports before schema 0.5 have no `<ns>`)."""
    prefix, sep, _ = (title or "").partition(":")
    return namespaces.get(prefix.strip().replace("_", " ").casefold(), "0") if sep else "0"


def _page(page: etree._Element, cfg: EncyclopediaConfig, sections: list[str], namespaces: dict[str, str]) -> Record:
    title = page.findtext("{*}title")
    page_id = page.findtext("{*}id")
    ns = page.findtext("{*}ns")
    ns = ns.strip() if ns is not None else _title_namespace(title, namespaces)
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


def _damage(reason: str, offset: int, data: bytes | bytearray, error: str) -> Drop:
    """A Drop for damaged page bytes, with what can still be read of the page's identity."""
    head = bytes(data[:_PROVENANCE_BYTES])
    meta: dict = {"offset": offset, "error": error[:300]}
    for key, pattern in (("title", _TITLE), ("page_id", _PAGE_ID)):
        m = pattern.search(head)
        if m:
            meta[key] = html.unescape(m.group(1).decode("utf-8", errors="replace")).replace("\x00", "\ufffd").strip()
    return Drop(reason, meta=meta)


def _parse(data: bytes, offset: int, parser: etree.XMLParser, cfg: EncyclopediaConfig,
           sections: list[str], namespaces: dict[str, str]) -> Record:
    try:
        page = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        if b"\x00" in data:
            return _damage("nul_byte", offset, data, f"NUL byte at offset {offset + data.index(0)}")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            return _damage("invalid_utf8", offset, data, f"{bad.reason} at offset {offset + bad.start}")
        return _damage("malformed_xml", offset, data, str(exc))
    return _page(page, cfg, sections, namespaces)


def _utf8_chunks(stream: IO[bytes], transcoded: list[bool], sniff: bool = True) -> Iterator[bytes]:
    """The stream's bytes in chunks, transcoded to UTF-8 when a byte-order mark or the XML
    declaration names another encoding (then `transcoded` is [True]); without `sniff` (a piece
    from the middle of a UTF-8 file) as they are."""
    read = getattr(stream, "read1", stream.read)
    first = read(_CHUNK)
    encoding = next((name for bom, name in _BOMS if first.startswith(bom)), None) if sniff else None
    if encoding is None and sniff and (m := _DECL.match(first)):
        try:
            encoding = codecs.lookup(m.group(1).decode("ascii")).name
        except LookupError:
            encoding = None  # an unknown name: read as UTF-8, and a page that is not says so
        if encoding in ("utf-8", "ascii", "utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            encoding = None  # UTF-8 as is; a UTF-16/32 file without a BOM cannot declare itself in ASCII
    if encoding is None:
        chunk = first
        while chunk:
            yield chunk
            chunk = read(_CHUNK)
        return
    transcoded.append(True)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    chunk = first
    while chunk:
        yield decoder.decode(chunk).encode("utf-8")
        chunk = read(_CHUNK)
    yield decoder.decode(b"", final=True).encode("utf-8")


def _split(chunks: Iterator[bytes]) -> Iterator[tuple[str, int, bytes]]:
    """(kind, offset, bytes) in stream order. kind: 'page' (start to end tag), 'unclosed' (a page
    start followed by another start), 'orphan_end' (an end tag after no start: the bytes since the
    previous page), then one 'open_at_end' (a page the stream ended in) or 'tail' (after the last
    page). Offsets count the bytes before, from the stream's start."""
    buf = bytearray()
    base = 0  # stream offset of buf[0]
    start = -1  # buf index of the open page's start tag; -1: between pages
    gap = 0  # buf index where the bytes between pages begin
    scan = 0  # buf index where the next tag search begins
    eof = False
    while True:
        m = _TAG.search(buf, scan)
        if m is not None and m.group(1):  # an end tag: up to its '>'
            gt = buf.find(b">", m.end())
            if gt < 0 and not eof:
                m = None  # the rest of the tag is still to come
        if m is None:
            if eof:
                if start >= 0:
                    yield "open_at_end", base + start, bytes(buf[start:])
                else:
                    yield "tail", base + gap, bytes(buf[gap:])
                return
            # keep the open page, or a bounded tail of the bytes between pages
            keep = start if start >= 0 else max(gap, len(buf) - _MAX_GAP)
            if start < 0:
                gap = keep
            scan = max(scan, len(buf) - _TAG_LEN)
            if keep > _CHUNK:
                del buf[:keep]
                base += keep
                scan -= keep
                gap -= keep
                if start >= 0:
                    start -= keep
            chunk = next(chunks, b"")
            if chunk:
                buf += chunk
            else:
                eof = True
            continue
        if not m.group(1):  # a start tag
            if start >= 0:
                yield "unclosed", base + start, bytes(buf[start:m.start()])
            start, scan = m.start(), m.end()
            continue
        end = (gt + 1) if gt >= 0 else len(buf)
        if start >= 0:
            yield "page", base + start, bytes(memoryview(buf)[start:end])  # one copy, not two
        else:
            yield "orphan_end", base + gap, bytes(buf[gap:end])
        start, gap, scan = -1, end, end


def read_encyclopedia(path: str, src: SourceConfig, cfg: ReadConfig, byte_range: tuple[int, int] | None = None
                      ) -> Iterator[Record | Note]:
    """The pages of a dump, or of the piece `byte_range` of it: the pages that start in the range
    (uncompressed) or in the bz2 streams / gzip members that start in it (pipelines/sources/pieces.py),
    each piece reading the dump's `<siteinfo>` from its head, so a page reads as in the whole file."""
    if byte_range is not None:
        yield from _read_piece(path, src, cfg, *byte_range)
        return
    yield from _read_pages(path, lambda: open_decompressed(path, resync=True), cfg)


def _file_head(path: str) -> tuple[bool, dict[str, str]]:
    """(whether the dump is transcoded to UTF-8, its namespaces): what a piece needs of the head."""
    transcoded: list[bool] = []
    head = bytearray()
    try:
        with open_decompressed(path) as stream:
            for chunk in _utf8_chunks(stream, transcoded):
                head += chunk
                if _TAG.search(head) or len(head) >= _HEAD_BYTES:
                    break
    except STREAM_ERRORS:
        pass  # the piece that holds the damage names it
    m = _TAG.search(head)
    return bool(transcoded), _namespaces(bytes(head[:m.start() if m else _HEAD_BYTES]))


def _read_piece(path: str, src: SourceConfig, cfg: ReadConfig, start: int, end: int) -> Iterator[Record | Note]:
    def plan(f, size: int):
        kind = compression_of(path)
        if kind not in (None, "gzip", "bz2"):
            return f"{kind}_xml"
        if kind:
            find = pieces.member_finder(kind, lambda head: True)
            if not pieces.splittable(f, find, size):
                return f"single_{kind}_stream"
        transcoded, namespaces = _file_head(path)
        if transcoded:  # its byte offsets are not the UTF-8 stream's
            return "transcoded_xml"
        if kind:
            first, following = pieces.bounds(f, find, start, end, size)
            if first is None:
                return None
            stream = pieces.decompressed_piece(f, kind, first, following)
            return _read_pages(path, lambda: stream, cfg, namespaces, lead=first > 0, limit=lambda: stream.raw.limit,
                               offsets={"from_offset": first})
        f.seek(start)
        stop = end - start if end < size else None
        return _read_pages(path, lambda: f, cfg, namespaces, base=start, lead=start > 0, limit=lambda: stop)

    return pieces.read_piece(path, start, plan, lambda: read_encyclopedia(path, src, cfg))


def _watch_head(chunks: Iterator[bytes], namespaces: dict[str, str]) -> Iterator[bytes]:
    """`chunks`, filling `namespaces` from the head before the first page (the whole-file read)."""
    head: bytearray | None = bytearray()
    for chunk in chunks:
        if head is not None:
            head += chunk
            m = _TAG.search(head)
            if m or len(head) >= _HEAD_BYTES:
                namespaces.update(_namespaces(bytes(head[:m.start() if m else _HEAD_BYTES])))
                head = None
        yield chunk
    if head is not None:
        namespaces.update(_namespaces(bytes(head)))


def _read_pages(path: str, open_stream, cfg: ReadConfig, namespaces: dict[str, str] | None = None, base: int = 0,
                lead: bool = False, limit=lambda: None, offsets: dict | None = None) -> Iterator[Record]:
    """The pages of a decompressed stream. For a piece: `namespaces` from the file's head, `base`
    the file offset of its first byte (uncompressed), `lead` skip what comes before its first page
    start (the end of a page the piece before owns), `limit()` the stream offset where the next
    piece's pages begin, `offsets` what a compressed piece's offsets count from."""
    # huge_tree: one page can exceed libxml2's 10 MB text-node limit.
    parser = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)
    sections = [name for names in cfg.encyclopedia.drop_sections.values() for name in names]
    any_page = False
    done = base  # file offset after the last page or damage: where a stream error begins
    corrupt = f"corrupt_{compression_of(path) or 'file'}"
    transcoded: list[bool] = []
    site = {} if namespaces is None else namespaces
    try:
        with open_stream() as stream:
            gaps = stream_gaps(stream)  # data lost to corrupt compressed streams, by offset
            chunks = _utf8_chunks(stream, transcoded, sniff=not lead and not base)
            items = _split(chunks if namespaces is not None else _watch_head(chunks, site))
            for kind, offset, data in one_ahead(items):
                if lead and kind not in _PAGE_STARTS:
                    continue  # the end of a page that starts in the piece before
                stop = limit()
                if stop is not None and kind in _PAGE_STARTS and offset >= stop:
                    return  # the next piece's first page
                lead = False
                for rec in _item(kind, offset + base, data, gaps, transcoded, parser, cfg, sections, site, corrupt,
                                 any_page):
                    if offsets and isinstance(rec, Drop) and "offset" in rec.meta:
                        rec.meta.update(offsets)
                    yield rec
                if kind in ("open_at_end", "tail"):
                    return
                any_page, done = True, offset + base + len(data)
    except STREAM_ERRORS as exc:
        if not lead:
            yield Drop(stream_error_reason(path, exc), meta={"offset": done, **(offsets or {})})


def _item(kind: str, offset: int, data: bytes, gaps: list, transcoded: list[bool], parser: etree.XMLParser,
          cfg: ReadConfig, sections: list[str], namespaces: dict[str, str], corrupt: str,
          any_page: bool) -> Iterator[Record]:
    """The records of one item of `_split` (a page, a damaged page, the bytes after the last page)."""
    end, lost, gap_here = offset + len(data), False, False
    # (offsets are the decompressed stream's; a transcoded file's gaps are counted alone)
    while gaps and (transcoded or gaps[0].before(offset if kind != "tail" else end)):
        gap = gaps.pop(0)
        if not gap.claimed:  # whole pages lost: no provenance left
            yield Drop(corrupt, meta={"offset": gap.at})
            gap_here = True
    for gap in gaps if kind != "tail" else ():  # a page that holds a corrupt stream's output
        if gap.touches(offset, end):
            lost = gap.claimed = True
        elif gap.since >= end:
            break
    if lost:
        yield _damage(corrupt, offset, data, "a corrupt compressed stream lost (a part of) this page")
    elif kind == "page":
        yield _parse(data, offset, parser, cfg.encyclopedia, sections, namespaces)
    elif kind == "unclosed":
        yield _damage("malformed_xml", offset, data, "page not closed before the next <page>")
    elif kind == "orphan_end":
        yield _damage("malformed_xml", offset, data, "</page> without a <page> (a broken start tag)")
    elif kind == "open_at_end":
        if _ROOT_END.search(data):
            yield _damage("malformed_xml", offset, data, "page not closed before </mediawiki>")
        else:
            yield _damage("truncated_xml", offset, data, "the stream ends inside a page")
    else:  # the bytes after the last page
        if offset + len(data) == 0:
            yield Drop("empty_file")
        elif not any_page:
            yield Drop("no_pages")
        elif not _ROOT_END.search(data) and not gap_here:  # (a corrupt stream took the end)
            yield Drop("truncated_xml", meta={"offset": offset, "error": "no </mediawiki> at the end"})

"""`web` sources: WARC and ARC (HTML responses -> main text) and WET (text conversions) files.

Per record: `response`/`resource` with HTML -> Doc (body de-chunked and decompressed per its
Transfer- / Content-Encoding, decoded per pipelines.sources.charset, main content by the configured
extractor); other payloads -> Drop("non_html"); a non-200 status -> Drop("http_status_NNN"); WET
`conversion` -> Doc as is. warcinfo, request, metadata, revisit and continuation records carry no
document and are skipped. Every Drop of a record carries its url, WARC-Record-ID and date.

A damaged record costs that record only, with a named reason (`non_http_response`,
`malformed_http_header`, `bad_content_encoding`, `malformed_warc_record`, `malformed_warc_header`,
`unknown_warc_type`), and reading goes on at the next record: framing and HTTP parsing are ours
(pipelines.sources.warc, .http), as fastwarc stops at a bad record header; measured on
benchmarks/bench_sources.py's inputs (CPU time, same extractor) the reader keeps 90-100% of the
fastwarc-based one's MB/s. Decompression of the file is ours too (pipelines.sources.compression; by
magic bytes when the name does not say): a cut stream ends the file with one Drop ("truncated_warc")
after every complete record before it. A corrupt gzip member (a WARC is gzipped per record) costs
the record it held: `corrupt_gzip` with the record's url where its head could be salvaged (else
the offset only), and reading goes on at the next member.

A large file is read in pieces (`byte_range`, pipelines/sources/pieces.py): a piece owns the
records whose header starts in its range (a .warc.gz: whose gzip member starts in it), and the
pieces of a file read exactly its records; a piece of an ARC learns its version from the file's
filedesc. Offsets in a compressed piece's drops count from its first member (`from_offset`).
"""

from __future__ import annotations

import io
from typing import Iterator

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources import pieces
from pipelines.sources.base import Drop, Doc, Note, Record
from pipelines.sources.charset import decode_page, split_content_type
from pipelines.sources.compression import ErrorLatch, compression_of, one_ahead, open_decompressed, \
    sniff_compression, stream_error_reason, stream_gaps
from pipelines.sources.extract import extract_main_text
from pipelines.sources.http import HttpError, decode_body, parse_response
from pipelines.sources.warc import ARC_RECORD_START, RECORD_START, WarcDamage, WarcRecord, format_version, \
    is_record_start, iter_warc, record_head_ok

HTML_TYPES = ("text/html", "application/xhtml+xml")
# An HTML page is read up to this many times max_doc_bytes (markup outweighs text); the rest is
# skipped unread, so a giant record costs bounded memory.
HTML_BYTES_PER_TEXT_BYTE = 4
_PAGE_TYPES = ("response", "resource")
_NON_DOC_TYPES = frozenset({"warcinfo", "request", "metadata", "revisit", "continuation"})
_BUFFER = 1 << 16


def _meta(headers: dict[str, str]) -> dict:
    return {"url": headers.get("warc-target-uri"), "date": headers.get("warc-date"),
            "warc_record_id": headers.get("warc-record-id")}


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _is_http(rec: WarcRecord) -> bool:
    """A response whose block is an HTTP message: declared so, or undeclared and starting like one."""
    if rec.type != "response":
        return False
    ctype = rec.headers.get("content-type", "").lower()
    return ctype.startswith("application/http") or (not ctype and rec.block[:5].upper() == b"HTTP/")


def _page(rec: WarcRecord, cfg: ReadConfig, limit: int) -> Record:
    meta = _meta(rec.headers)
    body, cut = rec.block, rec.length > len(rec.block)
    content_encoding = None
    if _is_http(rec):
        try:
            resp = parse_response(body)
        except HttpError as exc:
            return Drop(exc.reason, meta=meta)
        if resp.status != 200:
            return Drop(f"http_status_{resp.status}", meta=meta)
        ctype, charset = split_content_type(resp.headers.get("content-type"))
        if ctype and ctype not in HTML_TYPES:
            return Drop("non_html", meta=meta)
        content_encoding = resp.headers.get("content-encoding")
        try:
            body, out_cut = decode_body(resp, limit)
        except HttpError as exc:
            meta["content_encoding"] = content_encoding
            return Drop(exc.reason, meta=meta)
        cut = cut or out_cut
    else:
        ctype, charset = split_content_type(rec.headers.get("content-type"))
    if ctype not in HTML_TYPES and not (not ctype and _looks_like_html(body)):
        return Drop("non_html", meta=meta)
    if cut:  # end the prefix on a tag boundary, so no multi-byte character is split
        body = body[: body.rfind(b">") + 1] or body
        meta["html_truncated"] = True
    html, enc, enc_source = decode_page(body, charset)
    text = extract_main_text(html, meta.get("url"), cfg.extractor)
    if not text.strip():
        return Drop("empty_extraction", meta=meta)
    meta.update(content_type=ctype or "text/html", charset=enc, charset_source=enc_source)
    if content_encoding:
        meta["content_encoding"] = content_encoding
    return Doc(text=text, meta=meta)


def _conversion(rec: WarcRecord) -> Record:
    """WET: plain text, UTF-8 by Common Crawl's definition."""
    meta = _meta(rec.headers)
    text = rec.block.decode("utf-8", errors="replace")
    if not text.strip():
        return Drop("empty_extraction", meta=meta)
    meta["content_type"] = rec.headers.get("content-type") or "text/plain"
    return Doc(text=text, meta=meta)


def _record(rec: WarcRecord, cfg: ReadConfig, limit: int) -> Record | None:
    """Doc | Drop | None for a record that carries no document."""
    rtype = rec.type
    if rtype in _PAGE_TYPES:
        return _page(rec, cfg, limit)
    if rtype == "conversion":
        return _conversion(rec)
    if rtype in _NON_DOC_TYPES:
        return None
    return Drop("unknown_warc_type", meta=_meta(rec.headers))


def read_web(path: str, src: SourceConfig, cfg: ReadConfig, byte_range: tuple[int, int] | None = None
             ) -> Iterator[Record | Note]:
    """The records of a WARC/WET/ARC file, or of the piece `byte_range` of it: the records whose
    header (in a .warc.gz: whose gzip member) starts in the range (pipelines/sources/pieces.py)."""
    if byte_range is not None:
        yield from _read_piece(path, src, cfg, *byte_range)
        return
    # resync: a corrupt gzip member (one record, in a WARC gzipped per record) costs what it held
    decompressed = open_decompressed(path, sniff=True, resync=True)  # sniff: a .warc.gz under another name
    yield from _read_stream(path, decompressed, cfg)


def _read_piece(path: str, src: SourceConfig, cfg: ReadConfig, start: int, end: int) -> Iterator[Record | Note]:
    def plan(f, size: int):
        kind = compression_of(path) or sniff_compression(f)
        if kind not in (None, "gzip"):  # a bz2/xz WARC is one stream: no record starts to find
            return f"{kind}_warc"
        arc = _file_format(f, kind)
        find = (pieces.member_finder(kind, lambda head: record_head_ok(head, arc)) if kind else
                lambda f_, a, b: pieces.find_start(f_, a, b, ARC_RECORD_START if arc else RECORD_START,
                                                    lambda g, p: is_record_start(g, p, arc)))
        if kind and not pieces.splittable(f, find, size):
            return "single_gzip_stream"
        first, following = pieces.bounds(f, find, start, end, size)
        if first is None:
            return None
        if kind:
            stream = pieces.decompressed_piece(f, kind, first, following)
            return _read_stream(path, stream, cfg, arc=arc if first else None, limit=lambda: stream.raw.limit,
                                offsets={"from_offset": first})
        f.seek(first)
        stop = None if following is None else following - first
        return _read_stream(path, f, cfg, arc=arc if first else None, base=first, limit=lambda: stop)

    return pieces.read_piece(path, start, plan, lambda: read_web(path, src, cfg))


def _file_format(f, kind: str | None) -> int:
    """0 for a WARC file, else its ARC version (from its first record, in its first 64 KiB)."""
    if kind:
        head = pieces.member_head(f, kind, 0, want=1 << 16) or b""
    else:
        f.seek(0)
        head = f.read(1 << 16)
    f.seek(0)
    return format_version(io.BytesIO(head))


def _read_stream(path: str, decompressed, cfg: ReadConfig, arc: int | None = None, base: int = 0,
                 limit=lambda: None, offsets: dict | None = None) -> Iterator[Record]:
    """The records of a (decompressed) stream. A piece's stream: `arc` the file's format, `base` the
    file offset of its first byte (uncompressed), `limit()` the stream offset where the next piece's
    records begin (None: not reached), `offsets` what a compressed piece's offsets count from."""
    gaps = stream_gaps(decompressed)
    corrupt = f"corrupt_{getattr(getattr(decompressed, 'raw', None), 'kind', 'file')}"
    latch = ErrorLatch(decompressed)
    stream = io.BufferedReader(latch, _BUFFER)
    html_limit = cfg.max_doc_bytes * HTML_BYTES_PER_TEXT_BYTE
    # The read stage truncates text to max_doc_bytes: a WET block needs no more (+4: a cut mid-character).
    limits = {"response": html_limit, "resource": html_limit, "conversion": cfg.max_doc_bytes + 4}

    def stream_reason() -> str:
        exc = latch.error
        return "truncated_warc" if isinstance(exc, EOFError) else stream_error_reason(path, exc)

    def at(offset: int) -> dict:
        return {"offset": base + offset, **(offsets or {})}

    any_item = stopped = False
    try:
        # one item ahead: the loss of a corrupt member is known once the reader has read past it
        for item in one_ahead(iter_warc(stream, lambda h: limits.get(h.get("warc-type", "").lower(), 0), arc)):
            any_item = True
            stop = limit()
            if stop is not None and item.start >= stop:  # the next piece's first record
                stopped = True
                break
            while gaps and gaps[0].before(item.start):  # a corrupt member's loss ended before this item
                gap = gaps.pop(0)
                if not gap.claimed:  # it held no record read in part: a whole record (or more) lost
                    yield Drop(corrupt, meta=at(gap.at))
            lost = False
            for gap in gaps:  # a record that holds output of a corrupt member, or spans lost data
                if gap.touches(item.start, item.end):
                    lost = gap.claimed = True
                elif gap.since >= item.end:
                    break
            if lost:
                if item.headers.get("warc-type", "").lower() not in _NON_DOC_TYPES:
                    yield Drop(corrupt, meta={**_meta(item.headers), **at(item.start)})
                if isinstance(item, WarcDamage) and item.fatal:
                    break
                continue
            if isinstance(item, WarcDamage):
                if item.fatal:
                    # A stream cut or corrupt under the record is the cause: name it, not the symptom.
                    yield Drop(stream_reason() if latch.error is not None else item.reason, meta=_meta(item.headers))
                    return
                if item.headers.get("warc-type", "").lower() not in _NON_DOC_TYPES:  # no document lost otherwise
                    yield Drop(item.reason, meta=_meta(item.headers))
                continue
            rec = _record(item, cfg, html_limit)
            if rec is not None:
                yield rec
        stop = limit()
        for gap in gaps:  # lost after the last record (of this piece)
            if not gap.claimed and (stop is None or gap.since < stop):
                any_item = True
                yield Drop(corrupt, meta=at(gap.at))
        if stopped:  # what follows is the next piece's
            return
        if latch.error is not None:
            yield Drop(stream_reason())
        elif not any_item:
            yield Drop("empty_file")
    finally:
        stream.close()

"""`web` sources: WARC (HTML responses -> main text) and WET (text conversions) files, via fastwarc.

Per record: `response`/`resource` with HTML -> Doc (main content by resiliparse, decoded with the
HTTP-header charset, else the meta tag, else detection); other payloads -> Drop("non_html"); a
non-200 status -> Drop("http_status_NNN"); WET `conversion` -> Doc as is. warcinfo, request,
metadata, revisit and continuation records carry no document and are skipped.

Decompression is ours (pipelines.sources.compression), not fastwarc's: fastwarc ends a truncated
gzip member silently with a half record, while ours names the cut. A cut or corrupt record ends
the file with one Drop("truncated_warc") after every complete record before it.
"""

from __future__ import annotations

from typing import Iterator

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType
from resiliparse.parse.encoding import bytes_to_str, detect_encoding, map_encoding_to_html5

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Drop, Doc, Record
from pipelines.sources.extract import extract_main_text
from pipelines.sources.compression import ErrorLatch, open_decompressed, stream_error_reason

HTML_TYPES = ("text/html", "application/xhtml+xml")
# An HTML page is read up to this many times max_doc_bytes (markup outweighs text); the rest is
# skipped unread, so a giant record costs bounded memory.
HTML_BYTES_PER_TEXT_BYTE = 4
_DOC_TYPES = WarcRecordType.response | WarcRecordType.resource | WarcRecordType.conversion


def _read_payload(record: WarcRecord, limit: int) -> tuple[bytes, int]:
    """(first `limit` payload bytes, total payload bytes present in the stream)."""
    body = record.reader.read(limit)
    return body, len(body) + record.reader.consume()


def _is_broken(record: WarcRecord) -> bool:
    """A record whose header block was cut: no usable length, an unknown type, or HTTP headers
    that did not parse."""
    length = record.headers.get("Content-Length")
    if not length or not length.isdigit() or record.record_type in (WarcRecordType.unknown, WarcRecordType.no_type):
        return True
    return record.record_type == WarcRecordType.response and record.is_http and record.http_headers.status_code is None


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _charset(record: WarcRecord, body: bytes) -> tuple[str, str]:
    """(python codec name, where it came from: header | detected)."""
    if record.is_http and record.http_charset:
        enc = map_encoding_to_html5(record.http_charset, fallback_utf8=False)
        if enc:
            return enc, "header"
    # from_html_meta: a <meta charset> in the first 1 KB wins over uchardet's guess.
    return detect_encoding(body, from_html_meta=True), "detected"


def _meta(record: WarcRecord) -> dict:
    h = record.headers
    return {"url": h.get("WARC-Target-URI"), "date": h.get("WARC-Date"), "warc_record_id": h.get("WARC-Record-ID")}


def _html_doc(record: WarcRecord, body: bytes, cut: bool, content_type: str | None, cfg: ReadConfig) -> Record:
    meta = _meta(record)
    if cut:  # end the prefix on a tag boundary, so no multi-byte character is split
        body = body[: body.rfind(b">") + 1] or body
        meta["html_truncated"] = True
    enc, enc_source = _charset(record, body)
    html = bytes_to_str(body, enc, errors="replace")
    text = extract_main_text(html, meta.get("url"), cfg.extractor)
    if not text.strip():
        return Drop("empty_extraction", meta=meta)
    meta.update(content_type=content_type or "text/html", charset=enc, charset_source=enc_source)
    return Doc(text=text, meta=meta)


def _record(record: WarcRecord, cfg: ReadConfig) -> tuple[Record | None, bool]:
    """(Doc | Drop | None for a non-document record, whether the record was cut)."""
    rtype = record.record_type
    if not rtype & _DOC_TYPES:
        if record.reader.consume() < record.content_length:
            return Drop("truncated_warc"), True
        return None, False
    if rtype == WarcRecordType.conversion:  # WET: plain text, UTF-8 by Common Crawl's definition
        body, total = _read_payload(record, cfg.max_doc_bytes + 4)
        if total < record.content_length:
            return Drop("truncated_warc", meta=_meta(record)), True
        text = body.decode("utf-8", errors="replace")
        if not text.strip():
            return Drop("empty_extraction", meta=_meta(record)), False
        meta = _meta(record)
        meta["content_type"] = record.headers.get("Content-Type") or "text/plain"
        return Doc(text=text, meta=meta), False
    status = record.http_headers.status_code if rtype == WarcRecordType.response and record.is_http else None
    content_type = record.http_content_type if record.is_http else record.headers.get("Content-Type")
    limit = cfg.max_doc_bytes * HTML_BYTES_PER_TEXT_BYTE
    if status is not None and status != 200:
        _, total = _read_payload(record, 0)
        cut = total < record.content_length
        return Drop("truncated_warc" if cut else f"http_status_{status}", meta=_meta(record)), cut
    body, total = _read_payload(record, limit)
    if total < record.content_length:
        return Drop("truncated_warc", meta=_meta(record)), True
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype not in HTML_TYPES and not (not ctype and _looks_like_html(body)):
        return Drop("non_html", meta=_meta(record)), False
    return _html_doc(record, body, total > len(body), ctype or None, cfg), False


def read_web(path: str, src: SourceConfig, cfg: ReadConfig) -> Iterator[Record]:
    stream = ErrorLatch(open_decompressed(path))
    any_record = False
    try:
        try:
            records = ArchiveIterator(stream, parse_http=True)
            for record in records:
                any_record = True
                if _is_broken(record):
                    yield Drop("truncated_warc")
                    return
                rec, cut = _record(record, cfg)
                if rec is not None:
                    yield rec
                if cut:
                    return
        except OSError:  # fastwarc: "Invalid WARC header" and the like
            if stream.error is None:
                yield Drop("truncated_warc" if any_record else "invalid_warc")
                return
        if stream.error is not None:
            exc = stream.error
            yield Drop("truncated_warc" if isinstance(exc, EOFError) else stream_error_reason(path, exc))
        elif not any_record:
            yield Drop("empty_file")
    finally:
        stream.close()


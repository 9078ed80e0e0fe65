"""HTTP/1.x responses as a WARC `response` record stores them: status line and header fields,
then the body as sent (chunked, compressed), decoded here with bounded memory.

A bad message raises `HttpError` with a named reason: `non_http_response` (the block does not start
with `HTTP/`: an HTML body, `HTTPX/1.1`, garbage), `malformed_http_header` (a bad status line, or a
header line that is no field, as when the body follows with no blank line), `bad_content_encoding`
(an unknown coding, or one that does not decode). Valid, though often rejected: a status line without
a reason phrase (`HTTP/1.0 302 `, RFC 9112 4), bare-LF line ends (RFC 9112 2.2: a recipient MAY
accept them), the CRCRLF ends of a CRLF file converted once more, and a header of valid fields that
runs to the end of the record (no body); the last two seen in pywb's sample WARCs.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import brotli

_STATUS = rb"HTTP/\d(?:\.\d)?[ \t]+(\d{3})(?:[ \t][^\r\n]*)?\r*"
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_STATUS_LINE = re.compile(_STATUS, re.I)
_FIELD_NAME = re.compile(_TOKEN)
# The common case in one match: status line, well-formed fields, blank line. Anything else (an
# error, folded lines) goes through the line-by-line parser, which names what is wrong.
_HEAD = re.compile(_STATUS + rb"\n((?:" + _TOKEN + rb"[ \t]*:[^\n]*\n)*?)\r*\n", re.I)
# The fields the reader uses; only these are kept.
FIELDS = ("content-type", "content-encoding", "transfer-encoding")
_WANTED = re.compile(rb"^(" + "|".join(FIELDS).encode() + rb")[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r*$", re.I | re.M)
# Fields whose repeated lines form one comma-separated list (RFC 9110 5.3); for the rest the first wins.
_LIST_FIELDS = frozenset({"content-encoding", "transfer-encoding"})


class HttpError(ValueError):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]  # FIELDS present, by lower-cased name; latin-1 decoded values
    body: bytes  # as sent: still chunked / compressed, see `decode_body`


def parse_response(block: bytes) -> HttpResponse:
    """The final response in `block` (1xx interim responses before it are skipped)."""
    pos = 0
    while True:
        m = _HEAD.match(block, pos)
        if m is not None:
            status, pos = int(m.group(1)), m.end()
            headers: dict[str, str] = {}
            for name, value in _WANTED.findall(m.group(2)):
                _add(headers, name.decode("ascii").lower(), value.decode("latin-1"))
        else:
            status, headers, pos = _parse_head(block, pos)
        if not (100 <= status < 200 and status != 101):
            return HttpResponse(status, headers, block[pos:])


def _add(headers: dict[str, str], name: str, value: str) -> None:
    if name not in headers:
        headers[name] = value
    elif name in _LIST_FIELDS:
        headers[name] += ", " + value


def _parse_head(block: bytes, pos: int) -> tuple[int, dict[str, str], int]:
    end = block.find(b"\n", pos)
    line = block[pos:end] if end >= 0 else block[pos:pos + 200]
    if line[:5].upper() != b"HTTP/":
        raise HttpError("non_http_response", repr(line[:40]))
    m = _STATUS_LINE.fullmatch(line)
    if m is None:
        raise HttpError("malformed_http_header", f"status line {line[:60]!r}")
    fields: list[list[str]] = []
    while True:
        pos = end + 1 if end >= 0 else len(block)
        end = block.find(b"\n", pos)
        line = block[pos:end] if end >= 0 else block[pos:]
        # A header that runs to the end of the record is a response without a body, as when a
        # record's length counts the CRLFs of its original and the file gained CRs since.
        if not line.strip(b"\r") or end < 0 and pos >= len(block):
            kept: dict[str, str] = {}
            for name, value in fields:
                if name in FIELDS:
                    _add(kept, name, value)
            return int(m.group(1)), kept, end + 1 if end >= 0 else len(block)
        if line[:1] in (b" ", b"\t") and fields:  # obsolete line folding: part of the previous value
            fields[-1][1] += " " + line.strip().decode("latin-1")
            continue
        raw_name, sep, value = line.partition(b":")
        raw_name = raw_name.rstrip()
        if not sep or _FIELD_NAME.fullmatch(raw_name) is None:
            raise HttpError("malformed_http_header", f"field {line[:60]!r}")
        fields.append([raw_name.decode("ascii").lower(), value.strip().decode("latin-1")])


def _tokens(value: str | None) -> list[str]:
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


def decode_body(resp: HttpResponse, limit: int) -> tuple[bytes, bool]:
    """(the body with its transfer and content codings undone, at most `limit` bytes; whether
    the output was cut at `limit`). Codings are undone last-applied first (RFC 9110 8.4)."""
    codings = _tokens(resp.headers.get("content-encoding")) + _tokens(resp.headers.get("transfer-encoding"))
    body, cut = resp.body, False
    for coding in reversed(codings):
        if coding == "chunked":
            body = dechunk(body)
        elif coding != "identity":
            body, cut_here = decompress(coding, body, limit)
            cut = cut or cut_here
    if len(body) > limit:
        body, cut = body[:limit], True
    return body, cut


def dechunk(data: bytes) -> bytes:
    """The payload of a chunked body. Lenient, as browsers are: data that does not start with a
    chunk size is returned as is (a crawler that de-chunked it but kept the header), and a cut
    or damaged chunk ends the body with what came before."""
    out: list[bytes] = []
    pos = 0
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            break
        size_text = data[pos:end].split(b";", 1)[0].strip()  # chunk extensions follow a ';'
        if not size_text or size_text.strip(b"0123456789abcdefABCDEF"):
            if pos == 0:
                return data
            break
        size = int(size_text, 16)
        if size == 0:
            break
        start = end + 1
        out.append(data[start:start + size])
        pos = start + size
        pos += 2 if data[pos:pos + 2] == b"\r\n" else 1 if data[pos:pos + 1] == b"\n" else 0
    return b"".join(out)


def decompress(coding: str, data: bytes, limit: int) -> tuple[bytes, bool]:
    """(up to `limit` decoded bytes, whether more output was left). A stream cut short decodes
    to what it holds; an unknown coding or corrupt data raises HttpError("bad_content_encoding")."""
    try:
        if coding in ("gzip", "x-gzip"):
            return _inflate(data, 31, limit)
        if coding == "deflate":  # zlib-wrapped per RFC 9110, but many servers send raw deflate
            zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            return _inflate(data, 15 if zlib_header else -15, limit)
        if coding == "br":
            d = brotli.Decompressor()
            out = d.process(data, output_buffer_limit=limit)
            return out[:limit], len(out) >= limit and not d.is_finished()
    except (zlib.error, brotli.error) as exc:
        raise HttpError("bad_content_encoding", f"{coding}: {exc}") from None
    raise HttpError("bad_content_encoding", f"unknown coding {coding!r}")


def _inflate(data: bytes, wbits: int, limit: int) -> tuple[bytes, bool]:
    d = zlib.decompressobj(wbits)
    out = d.decompress(data, limit)
    return out, bool(d.unconsumed_tail)

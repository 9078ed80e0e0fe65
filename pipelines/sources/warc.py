"""WARC record framing (ISO 28500) with record-level recovery.

fastwarc ends a file at the first bad record header ("Invalid WARC header": a wrong or missing
Content-Length, garbage between records) and cannot resume. This reader names the damage and
resynchronises at the next `WARC/` version line, so one bad record costs one `WarcDamage`:

    malformed_warc_record  bytes where a record should begin that are not one (garbage, or the
                           tail or head of a record whose Content-Length was wrong)
    malformed_warc_header  a record header without a usable Content-Length, or too long
    truncated_warc         the stream ends inside a record (fatal: nothing follows)
    invalid_warc           no WARC record anywhere in the stream (fatal)

Blocks are read up to a caller-given limit per record; the rest is skipped unread into memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Callable, Iterator

MAX_HEADER_BYTES = 1 << 16
_SKIP_CHUNK = 1 << 16
_BLANK = (b"\r\n", b"\n")


@dataclass
class WarcRecord:
    headers: dict[str, str]  # lower-cased field names; the first of repeated fields
    block: bytes  # the first `limit` bytes of the record block
    length: int  # the declared Content-Length: len(block) < length when the rest was skipped

    @property
    def type(self) -> str:
        return self.headers.get("warc-type", "").lower()


@dataclass
class WarcDamage:
    reason: str
    headers: dict[str, str]  # what could be read of the damaged record's header (provenance)
    fatal: bool = False  # the stream ended: no record follows


def iter_warc(stream: IO[bytes], limit: Callable[[dict[str, str]], int]) -> Iterator[WarcRecord | WarcDamage]:
    """Records of a decompressed WARC stream, in order; `limit(headers)` is how many block bytes
    to keep for a record (0: skip its block)."""
    readline = stream.readline
    seen_record = False
    junk = False  # bytes that are no record were skipped and not yet reported
    quiet = False  # ...or they belong to a record already reported (its header was bad)
    at_line_start = True
    while True:
        line = readline(MAX_HEADER_BYTES)
        if not line:
            if junk:
                yield WarcDamage("malformed_warc_record" if seen_record else "invalid_warc", {}, fatal=True)
            return
        line_start, at_line_start = at_line_start, line.endswith(b"\n")
        if not (line_start and line.startswith(b"WARC/")):
            junk = junk or not (quiet or line in _BLANK)
            continue
        if junk:
            yield WarcDamage("malformed_warc_record", {})
        junk = quiet = False
        seen_record = True
        headers, status = _read_header(readline)
        if status == "eof":
            yield WarcDamage("truncated_warc", headers, fatal=True)
            return
        length = headers.get("content-length", "")
        if status == "too_long" or not (length.isascii() and length.isdigit()):
            yield WarcDamage("malformed_warc_header", headers)
            quiet = True  # its block follows: skipped up to the next record, not reported again
            at_line_start = status != "too_long"
            continue
        n = int(length)
        keep = min(n, max(limit(headers), 0))
        block = stream.read(keep) if keep else b""
        if len(block) < keep or not _skip(stream, n - keep):
            yield WarcDamage("truncated_warc", headers, fatal=True)
            return
        yield WarcRecord(headers, block, n)
        at_line_start = True


def _read_header(readline) -> tuple[dict[str, str], str]:
    """(header fields, 'ok' | 'eof' | 'too_long'), read up to and including the blank line."""
    headers: dict[str, str] = {}
    size = 0
    name = ""
    while True:
        line = readline(MAX_HEADER_BYTES)
        if not line:
            return headers, "eof"
        if line in _BLANK:
            return headers, "ok"
        size += len(line)
        if size > MAX_HEADER_BYTES:
            return headers, "too_long"
        if line[:1] in (b" ", b"\t") and name:  # a folded continuation line
            headers[name] += " " + line.strip().decode("utf-8", errors="replace")
            continue
        raw_name, sep, value = line.partition(b":")
        if not sep:  # not a field: ignored, as fastwarc does
            continue
        name = raw_name.strip().decode("utf-8", errors="replace").lower()
        headers.setdefault(name, value.strip().decode("utf-8", errors="replace"))


def _skip(stream: IO[bytes], n: int) -> bool:
    """Skip n bytes; False when the stream ends first."""
    while n > 0:
        got = len(stream.read(min(n, _SKIP_CHUNK)))
        if not got:
            return False
        n -= got
    return True

"""WARC (ISO 28500) and ARC (Internet Archive v1/v2) record framing, with record-level recovery.

fastwarc ends a file at the first bad record header ("Invalid WARC header": a wrong or missing
Content-Length, garbage between records) and cannot resume. This reader names the damage and
resynchronises at the next record start (a `WARC/` version line; for ARC a record header line), so
one bad record costs one `WarcDamage`:

    malformed_warc_header  a record header without a usable length, or too long
    malformed_warc_record  skipped bytes holding what remains of a record's header (a record lost,
                           e.g. swallowed by the Content-Length of the one before). Skipped bytes
                           with no header fields (a record's overlong tail, stray bytes) hold no
                           record: they are skipped without a damage
    truncated_warc         the stream ends inside a record (fatal: nothing follows)
    invalid_warc           no record anywhere in the stream (fatal)

A Content-Length too long swallows the head of the next record (or, past the end of the stream,
of all the records after it): when a block held whole is not followed by blank lines and a record,
or the stream ends inside it, a record head inside the block (a `WARC/x.y` line at a line start,
then a `WARC-` field) is where the block ends and reading resumes, so no record is lost. A version
line with stray bytes before it on its line (a NUL run, a cut record's tail) is a record start too.

An ARC record is given WARC-style headers (warc-type, warc-target-uri, warc-date, content-type,
content-length), its filedesc record the type `warcinfo`. Lines may end in LF, CRLF, or the CRCRLF
of a CRLF file converted once more. Blocks are read up to a caller-given limit per record; the
rest is skipped without being held in memory.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import IO, Callable, Iterator

MAX_HEADER_BYTES = 1 << 16
_SKIP_CHUNK = 1 << 16
_ARC_DESC_BYTES = 256  # of an ARC filedesc block: its first line holds the format version
_MAX_JUNK_FIELDS = 32
_JUNK_FIELD = re.compile(rb"(WARC-[A-Za-z0-9-]+)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r*\n?$", re.I)
_ARC_DATE = re.compile(rb"\d{14}\d*")
_GLUED_VERSION = re.compile(rb"WARC/\d+\.\d+\r*\n\Z")
# A record head inside a block: a version line, then a WARC field (or the block's end). Not only at
# a line start: after a corrupt gzip member, the next record follows a record's salvaged part.
_HEAD_IN_BLOCK = re.compile(rb"WARC/\d+\.\d+\r*\n(?:WARC-[A-Za-z-]+[ \t]*:|[^\n]{0,40}\Z)")
_VERSION_START = re.compile(rb"WARC/\d+\.\d+\r*\n")
_SKIP_TAIL = 1 << 16  # the last bytes of a skipped block are kept: a swallowed head is found there


@dataclass
class WarcRecord:
    headers: dict[str, str]  # lower-cased field names; the first of repeated fields
    block: bytes  # the first `limit` bytes of the record block
    length: int  # the declared length: len(block) < length when the rest was skipped
    start: int = 0  # its offsets in the stream: the version line, and after the block's trailer
    end: int = 0

    @property
    def type(self) -> str:
        return self.headers.get("warc-type", "").lower()


@dataclass
class WarcDamage:
    reason: str
    headers: dict[str, str]  # what could be read of the damaged record's header (provenance)
    fatal: bool = False  # the stream ended: no record follows
    start: int = 0  # the offsets in the stream of the bytes it stands for
    end: int = 0


def _is_blank(line: bytes) -> bool:
    return not line.strip(b"\r\n")


def iter_warc(stream: IO[bytes], limit: Callable[[dict[str, str]], int],
              arc: int | None = None) -> Iterator[WarcRecord | WarcDamage]:
    """Records of a decompressed WARC or ARC stream (by its first line), in order;
    `limit(headers)` is how many block bytes to keep for a record (0: skip its block). `arc`: the
    format of a stream that starts at a record in the middle of a file (0: WARC, else the ARC
    version, read from the file's first record: `format_version`)."""
    readline = stream.readline
    seen_record = arc is not None
    arc = arc or 0  # 0: WARC; else the ARC format version
    junk: dict[str, str] | None = None  # skipped bytes, with the WARC fields found in them
    quiet = False  # the skipped bytes belong to a record already reported (its header was bad)
    at_line_start = True
    pending: bytes | None = None  # a line read after a record's block, still to be looked at
    pos = 0  # stream offset of the next byte to read
    junk_at = 0
    while True:
        if pending is None:
            line = readline(MAX_HEADER_BYTES)
            pos += len(line)
        else:
            line, pending = pending, None
        line_at = pos - len(line)
        if not line:
            if junk is not None and (junk or not seen_record):
                yield WarcDamage("malformed_warc_record" if seen_record else "invalid_warc", junk, fatal=True,
                                 start=junk_at, end=pos)
            return
        line_start, at_line_start = at_line_start, line.endswith(b"\n")
        if not line.strip(b"\r\n"):
            continue
        if not seen_record and line.startswith(b"filedesc://"):
            arc = 1
        if arc and line_start:
            headers, status = _arc_header(line, arc)
        elif line_start and line.startswith(b"WARC/") or not arc and _GLUED_VERSION.search(line):
            # (a version line with stray bytes glued before it, as after a NUL run: still a record)
            glued = _GLUED_VERSION.search(line)
            if glued:  # the record starts at its version line (garbage before it: a lost record's)
                line_at += glued.start()
            headers, status, size, past = _read_header(readline)
            pos += size
            if status == "interrupted":  # the next record's version line came before the blank line
                if junk:
                    yield WarcDamage("malformed_warc_record", junk, start=junk_at, end=line_at)
                glued = _GLUED_VERSION.search(past, 0, past.find(b"\n") + 1)
                end = pos + (glued.start() if glued else 0)
                yield WarcDamage("malformed_warc_header", headers, start=line_at, end=end)
                junk, quiet, seen_record = None, False, True
                stream = _unread(past, stream)
                readline = stream.readline
                at_line_start = True
                continue
        else:
            status = "junk"
        if status == "junk":
            if not quiet:
                if junk is None:
                    junk, junk_at = {}, line_at
                m = _JUNK_FIELD.match(line)
                if m and len(junk) < _MAX_JUNK_FIELDS:
                    junk.setdefault(m.group(1).decode("ascii").lower(), m.group(2).decode("utf-8", errors="replace"))
            continue
        if junk:
            yield WarcDamage("malformed_warc_record", junk, start=junk_at, end=line_at)
        junk, quiet, seen_record = None, False, True
        if status == "eof":
            yield WarcDamage("truncated_warc", headers, fatal=True, start=line_at, end=pos)
            return
        length = headers.get("content-length", "")
        if status == "too_long" or not (length.isascii() and length.isdigit()):
            yield WarcDamage("malformed_warc_header", headers, start=line_at, end=pos)
            quiet = True  # its block follows: skipped up to the next record, not reported again
            at_line_start = status != "too_long"
            continue
        n = int(length)
        keep = min(n, max(limit(headers), _ARC_DESC_BYTES if headers.get("arc-filedesc") else 0))
        block = stream.read(keep) if keep else b""
        pos += len(block)
        ended = len(block) < keep
        # The block's last bytes read, and their offset in the block: where a record head is
        # looked for when the block's length proves too long (the head swallowed is at its end).
        window, window_at = block, 0
        if not ended and n > keep:
            skipped, count = _skip(stream, n - keep)
            pos += count
            ended = count < n - keep
            whole = len(skipped) == count
            window, window_at = (block + skipped, 0) if whole else (skipped, keep + count - len(skipped))
        cut, trail, end = None, b"", pos
        if ended:
            # The stream ends inside the block: cut, or a Content-Length too long that took in
            # the records after it (whose heads are then found inside the block).
            cut = _overrun(window, b"") if not arc else None
            if cut is None:
                yield WarcDamage("truncated_warc", headers, fatal=True, start=line_at, end=pos)
                return
        elif not arc and n:
            # What follows a block is blank lines, then the next record. Anything else: a
            # Content-Length too long may have swallowed (a part of) the next record's head.
            pending = readline(MAX_HEADER_BYTES)
            trail = pending
            while pending and not pending.strip(b"\r\n") and len(trail) <= 8:
                pending = readline(MAX_HEADER_BYTES)
                trail += pending
            pos += len(trail)
            end = pos
            if pending.strip(b"\r\n"):  # the next record's version line, or junk
                end -= len(pending)
                if not pending.startswith(b"WARC/"):
                    cut = _overrun(window, trail)
        if cut is not None:  # the block ends before the head found in it; reading resumes there
            given_back = window[cut:] + trail
            stream = _unread(given_back, stream)
            readline, pending = stream.readline, None
            pos -= len(given_back)
            end = pos
            n = window_at + len(_strip_trailer(window[:cut]))
            block = block[:n]
            headers = {**headers, "content-length": str(n)}
        if headers.get("arc-filedesc") and block[:2].strip() == b"2":
            arc = 2
        at_line_start = True
        yield WarcRecord(headers, block, n, line_at, end)


def format_version(stream: IO[bytes]) -> int:
    """0 for a WARC stream, else the ARC version (1 or 2, from its filedesc record): what
    `iter_warc` learns from a file's first record, for a piece that starts later in it."""
    first = next(iter_warc(stream, lambda headers: 0), None)
    if first is None or not first.headers.get("arc-filedesc"):
        return 0
    return 2 if isinstance(first, WarcRecord) and first.block[:2].strip() == b"2" else 1


# Where a piece of a file may start (pipelines/sources/pieces.py): a version line at a line start,
# an ARC header line (a 14-digit date after the URL and IP).
RECORD_START = re.compile(rb"(?<=\n)WARC/\d+\.\d+\r*\n")
ARC_RECORD_START = re.compile(rb"(?m)^(?=\S[^\n]* \d{14}\d* \S)")


def record_head_ok(head: bytes, arc: int) -> bool:
    """Whether decompressed bytes start with a record header (a gzip member's, for a piece)."""
    if arc:
        return _arc_header(head.split(b"\n", 1)[0] + b"\n", arc)[1] == "ok"
    return _VERSION_START.match(head) is not None


def is_record_start(f: IO[bytes], at: int, arc: int) -> bool:
    """Whether the record header at `at` of an uncompressed file parses, declares a length, and its
    block ends where blank lines and the next record (or the end of the file) follow: a piece's
    first record, not a version line quoted inside some record's block."""
    f.seek(at)
    head = io.BytesIO(f.read(MAX_HEADER_BYTES + 512))
    first = head.readline(MAX_HEADER_BYTES)
    if arc:
        headers, status = _arc_header(first, arc)
        block_at = at + len(first)
    else:
        if not _VERSION_START.match(first):
            return False
        headers, status, size, _ = _read_header(head.readline)
        block_at = at + len(first) + size
    length = headers.get("content-length", "")
    if status != "ok" or not (length.isascii() and length.isdigit()):
        return False
    f.seek(block_at + int(length))
    rest = f.read(512).lstrip(b"\r\n")
    return not rest or record_head_ok(rest, arc)


def _overrun(window: bytes, trail: bytes) -> int | None:
    """Where a record head starts in `window` (a block's last bytes; `trail`: the lines read after
    it), when the block's declared length ran past its record; None: no head there."""
    m = _HEAD_IN_BLOCK.search(window)
    if m:
        return m.start()
    for k in range(1, 16) if trail else ():  # a head cut inside its version line, completed by the trail
        if _VERSION_START.match(window[-k:] + trail[:32]):
            return len(window) - k
    return None


def _strip_trailer(block: bytes) -> bytes:
    """A block without the (up to two) line ends that separate it from the next record."""
    for _ in range(2):
        if block.endswith(b"\r\n"):
            block = block[:-2]
        elif block.endswith(b"\n"):
            block = block[:-1]
    return block


def _unread(data: bytes, stream: IO[bytes]) -> IO[bytes]:
    """A stream of `data`, then the rest of `stream`. Given one of its own streams, it gives back
    that stream's buffered bytes too and wraps the stream below: one layer, however many resumes."""
    raw = getattr(stream, "raw", None)
    if isinstance(raw, _Prefixed):
        buffered = stream.peek(1)
        data += stream.read(len(buffered)) + bytes(raw.prefix)
        stream = raw.stream
    return io.BufferedReader(_Prefixed(data, stream), _SKIP_CHUNK)


class _Prefixed(io.RawIOBase):
    """`prefix`, then the rest of `stream`: bytes read too far, given back."""

    def __init__(self, prefix: bytes, stream: IO[bytes]):
        self.prefix = memoryview(prefix)
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.prefix:
            n = min(len(b), len(self.prefix))
            b[:n] = self.prefix[:n]
            self.prefix = self.prefix[n:]
            return n
        data = getattr(self.stream, "read1", self.stream.read)(len(b))
        b[: len(data)] = data
        return len(data)


def _read_header(readline) -> tuple[dict[str, str], str, int, bytes]:
    """(header fields, 'ok' | 'eof' | 'too_long' | 'interrupted', bytes read for it, bytes read
    past it), read up to and including the blank line. Interrupted: a version line came first (a
    record's head cut short, e.g. by a corrupt gzip member, then the next record's head): the
    bytes from that line on are read past it, to be given back."""
    lines: list[bytes] = []
    size = 0
    status = "ok"
    while True:
        line = readline(MAX_HEADER_BYTES)
        if not line or not line.strip(b"\r\n"):
            status = "ok" if line else "eof"
            size += len(line)
            break
        size += len(line)
        if size > MAX_HEADER_BYTES:
            status = "too_long"
            break
        lines.append(line)
    raw = b"".join(lines)
    past = b""
    if b"WARC/" in raw:  # (one search per header; a field value may hold it too: checked line by line)
        for i, text in enumerate(lines):
            if text.startswith(b"WARC/") or _GLUED_VERSION.search(text):
                past = b"".join(lines[i:]) + (line if status != "too_long" else b"")
                size -= len(past)
                raw, status = b"".join(lines[:i]), "interrupted"
                break
    headers: dict[str, str] = {}
    name = ""
    # One decode for the block, then str operations: half the cost of per-line bytes handling.
    for text in raw.decode("utf-8", errors="replace").split("\n"):
        if text[:1] in (" ", "\t") and name:  # a folded continuation line
            headers[name] += " " + text.strip()
            continue
        field, sep, value = text.partition(":")
        if sep:  # a line that is not a field is ignored, as fastwarc does
            name = field.strip().lower()
            headers.setdefault(name, value.strip())
    return headers, status, size, past


def _arc_header(line: bytes, version: int) -> tuple[dict[str, str], str]:
    """An ARC record header line -> (WARC-style headers, 'ok' | 'junk'). Fields are counted from
    the end, as a URL may hold spaces: v1 `URL IP date type length`, v2 `URL IP date type result
    checksum location offset filename length`."""
    fields = line.split()
    tail = 4 if version == 1 else 9
    if len(fields) <= tail or not _ARC_DATE.fullmatch(fields[-tail + 1]):
        return {}, "junk"
    url = b" ".join(fields[:-tail]).decode("utf-8", errors="replace")
    d = fields[-tail + 1].decode("ascii")
    ctype = fields[-tail + 2].decode("utf-8", errors="replace")
    headers = {"warc-target-uri": url, "warc-date": f"{d[:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}Z",
               "content-length": fields[-1].decode("utf-8", errors="replace")}
    if url.startswith("filedesc://"):
        headers.update({"warc-type": "warcinfo", "content-type": ctype, "arc-filedesc": "1"})
    else:  # an http(s) record's block is the whole HTTP response, as in a WARC response record
        http = url.lower().startswith(("http:", "https:"))
        headers["warc-type"] = "response"
        headers["content-type"] = "application/http; msgtype=response" if http else ctype
    return headers, "ok"


def _skip(stream: IO[bytes], n: int) -> tuple[bytes, int]:
    """Skip up to n bytes: (the last up to _SKIP_TAIL of them, how many; fewer than n: the stream ended)."""
    last = prev = b""
    done = 0
    while done < n:
        data = stream.read(min(n - done, _SKIP_CHUNK))
        if not data:
            break
        prev, last = last, data
        done += len(data)
    return (prev + last)[-_SKIP_TAIL:] if len(last) < _SKIP_TAIL else last, done

"""Transparent decompression by file extension, with named reasons for broken streams.

The stdlib `GzipFile`/`BZ2File` raise `EOFError` on a truncated stream from inside a `read(n)`
call and throw away what that call had already decompressed (up to a buffer's worth of records
before the cut). `open_decompressed` instead decompresses incrementally and raises only once every
byte before the cut has been handed out, so a reader yields all complete records, then one Drop.
With `resync` (the web and encyclopedia readers), a corrupt gzip member or bz2 stream in the middle
is skipped instead of ending the file: what it held up to its fault is salvaged, reading goes on at
the next member found by its magic bytes, and the stream's `gaps` tell the reader where data was
lost (see `Gap`), so it can name the record that held it.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import zlib
from dataclasses import dataclass
from typing import IO, Callable, Iterator, TypeVar

from pipelines.sources.files import open_binary

T = TypeVar("T")
_SUFFIX = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}
_CHUNK = 1 << 16


def compression_of(path: str) -> str | None:
    for suffix, name in _SUFFIX.items():
        if path.endswith(suffix):
            return name
    return None


class _GzipMember:
    """zlib's decompressobj behind the bz2/lzma decompressor interface (needs_input, eof,
    unused_data, decompress(data, max_length)); wbits=31 checks the gzip header, CRC and size."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(31)
        self._tail = b""

    @property
    def needs_input(self) -> bool:
        return not self._tail and not self._d.eof

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, max_length: int) -> bytes:
        out = self._d.decompress(self._tail + data, max_length)
        self._tail = self._d.unconsumed_tail
        return out


_DECOMPRESSORS: dict[str, Callable[[], object]] = {
    "gzip": _GzipMember,
    "bz2": bz2.BZ2Decompressor,
    "xz": lzma.LZMADecompressor,
}


# A member's start, for resynchronising after a corrupt one: gzip's magic and deflate method; a bz2
# stream's magic, block size and first block's magic (pi).
_MEMBER_START = {"gzip": re.compile(rb"\x1f\x8b\x08"), "bz2": re.compile(rb"BZh[1-9]1AY&SY")}
_RESYNC_WINDOW = 1 << 22  # raw bytes of the current member kept to search for the next member's start
_SALVAGE = 1 << 16  # output of a corrupt member recovered from before its fault (a WARC record's head)
# A corrupt member's output this far before its fault is suspect (deflate finds a changed literal
# only at the member's end, by its CRC): a whole record of a WARC gzipped per record, not all of a
# multi-GB single-member dump (whose earlier output a reader has used long before).
_SUSPECT = 1 << 20
_DECOMPRESS_ERRORS = (zlib.error, OSError, lzma.LZMAError, EOFError)


@dataclass
class Gap:
    """Data lost to a corrupt member. Its output (garbage, maybe: deflate finds some faults only at
    the member's end) spans decompressed offsets [since, at), after which output stopped; a reader
    drops what overlaps it, and counts a gap that overlaps nothing (a member lost whole) once."""
    since: int
    at: int
    claimed: bool = False  # a record overlapping it was dropped for it

    def touches(self, start: int, end: int) -> bool:
        """Whether the stream's bytes [start, end) hold output of the corrupt member, or lost data
        (a member with no output lost what lay between two bytes inside the range)."""
        if self.at > self.since:
            return self.since < end and self.at > start
        return start < self.at < end

    def before(self, start: int) -> bool:
        """Whether the member's output and loss lie wholly before offset `start`."""
        return self.at <= start


class DecompressingReader(io.RawIOBase):
    """Multi-member (concatenated) gzip/bz2/xz stream, decompressed `max_length` bytes at a time so
    that memory stays bounded even for a decompression bomb. A stream cut inside a member raises
    `EOFError` only after all bytes decompressed before the cut were returned.

    With `resync` (gzip, bz2), a corrupt member does not end the stream: the output goes on at the
    next member's start found after it (a WARC gzipped per record, a multistream bz2 dump), and
    `gaps` says where output was lost, so a reader can name what it lost."""

    def __init__(self, raw: IO[bytes], kind: str, resync: bool = False, base: int = 0, stop_at: int | None = None):
        self._raw = raw
        self.kind = kind
        # A piece of a multi-member file (pipelines/sources/pieces.py): `raw` starts at compressed
        # offset `base`; `limit` becomes the output offset where the first member starting at or
        # after compressed offset `stop_at` begins (the next piece's), once decompression gets there.
        self._raw_pos = base
        self._stop_at = stop_at
        self.limit: int | None = None
        self._new = _DECOMPRESSORS[kind]
        self._d = self._new()
        self._member_bytes = 0  # compressed bytes fed to the current member (0: clean boundary)
        self._carry = b""  # input left over after the previous member ended
        self._pos = 0
        self._start = _MEMBER_START.get(kind) if resync else None
        self._fed: list[bytes] = []  # raw input fed to the current member (resync only; bounded), by reference
        self._fed_bytes = 0
        self._member_whole = True  # _fed holds the member from its first byte
        self._member_out = 0  # bytes the current member handed out
        self._salvaged = b""  # output recovered from a corrupt member, still to hand out
        self.gaps: list[Gap] = []

    def readable(self) -> bool:
        return True

    def tell(self) -> int:  # fastwarc asks for the position; the decompressed offset is the truth
        return self._pos

    def readinto(self, b) -> int:
        if self._salvaged:
            n = min(len(b), len(self._salvaged))
            b[:n], self._salvaged = self._salvaged[:n], self._salvaged[n:]
            self._pos += n
            return n
        while True:
            if self._d.eof:
                self._carry = self._d.unused_data + self._carry
                self._next_member()
            data = b""
            if self._d.needs_input:
                if self._carry:
                    data, self._carry = self._carry, b""
                else:
                    data = self._raw.read(_CHUNK)
                    self._raw_pos += len(data)
                if not data:
                    if self._member_bytes == 0:
                        return 0
                    if self._start is not None and self._member_whole and self._restart_inside():
                        continue  # a corrupt member had run on into the members after it
                    raise EOFError("compressed stream ended before the end-of-stream marker")
                if self._member_bytes == 0 and self._stop_at is not None and self.limit is None \
                        and self._raw_pos - len(data) >= self._stop_at:  # (carry is a suffix of what was read)
                    self.limit = self._pos
                self._member_bytes += len(data)
                if self._start is not None:
                    self._fed.append(data)
                    self._fed_bytes += len(data)
                    while self._fed_bytes > _RESYNC_WINDOW and len(self._fed) > 1:
                        self._fed_bytes -= len(self._fed.pop(0))
                        self._member_whole = False
            try:
                out = self._d.decompress(data, len(b))
            except _DECOMPRESS_ERRORS:
                if self._start is None:
                    raise
                more = self._resync()
                if self._salvaged:
                    return self.readinto(b)
                if not more:
                    return 0
                continue
            if out:
                b[: len(out)] = out
                self._pos += len(out)
                self._member_out += len(out)
                return len(out)

    def _next_member(self) -> None:
        self._d = self._new()
        self._member_bytes = self._member_out = 0
        self._fed, self._fed_bytes = [], 0
        self._member_whole = True

    @property
    def _member(self) -> bytes:
        """The raw bytes fed to the current member (from its first byte when _member_whole)."""
        return b"".join(self._fed)

    def _resync(self) -> bool:
        """After a corrupt member: its output from before the fault is salvaged (to be handed out
        first), and reading goes on at the next member start after its first byte; False: none."""
        self._salvaged = self._salvage() if self._member_whole else b""
        since = max(self._pos - self._member_out, self._pos - _SUSPECT)
        self.gaps.append(Gap(since, self._pos + len(self._salvaged)))
        search = self._member[1:] + self._carry
        self._carry = b""
        while True:
            for m in self._start.finditer(search):
                if self._plausible(search[m.start():m.start() + 256]):
                    self._next_member()
                    self._carry = bytes(search[m.start():])
                    return True
            more = self._raw.read(_CHUNK)
            self._raw_pos += len(more)
            if not more:
                self._next_member()
                return False
            search = search[-16:] + more  # a start cut by the chunk boundary is found whole

    def _restart_inside(self) -> bool:
        """At the end of the input inside a member: if its bytes hold a later member's start, the
        member was corrupt and decoded on through the members after it; go on from that start."""
        raw = bytes(self._member)
        for m in self._start.finditer(raw, 1):
            if self._plausible(raw[m.start():m.start() + 256]):
                self.gaps.append(Gap(max(self._pos - self._member_out, self._pos - _SUSPECT), self._pos))
                self._next_member()
                self._carry = raw[m.start():]
                return True
        return False

    def _salvage(self) -> bytes:
        """The corrupt member's output past what it handed out, up to its fault (at most _SALVAGE
        bytes): fed again in small pieces, as one large piece's output is lost with the error."""
        d, out, skip = self._new(), bytearray(), self._member_out
        raw = bytes(self._member)
        try:
            for i in range(0, len(raw), 256):
                data = raw[i:i + 256]
                while True:
                    piece = d.decompress(data, _SALVAGE)
                    data = b""
                    if skip:
                        drop = min(skip, len(piece))
                        piece, skip = piece[drop:], skip - drop
                    out += piece
                    if len(out) >= _SALVAGE or d.eof:
                        return bytes(out[:_SALVAGE])
                    if d.needs_input:
                        break
        except _DECOMPRESS_ERRORS:
            pass
        return bytes(out[:_SALVAGE])

    def _plausible(self, head: bytes) -> bool:
        """Whether a member start found by its magic decodes (a random match seldom does)."""
        try:
            self._new().decompress(head, 1)
        except _DECOMPRESS_ERRORS:
            return False
        return True

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


class _KeepingBufferedReader(io.BufferedReader):
    """`read(n)` returns the bytes gathered before a stream error (io.BufferedReader drops them);
    the error comes with the next call, as the underlying reader raises it again."""

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return super().read()
        chunks: list[bytes] = []
        got = 0
        while got < size:
            try:
                data = self.read1(size - got)
            except STREAM_ERRORS:
                if not chunks:
                    raise
                break
            if not data:
                break
            chunks.append(data)
            got += len(data)
        return b"".join(chunks)


_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))


def _sniff(raw: IO[bytes]) -> str | None:
    """The compression a seekable stream's first bytes announce (None: none, or not seekable)."""
    if not raw.seekable():
        return None
    head = raw.read(6)
    raw.seek(0)
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def sniff_compression(raw: IO[bytes]) -> str | None:
    """The compression a seekable stream's first bytes announce (it is left at its start)."""
    return _sniff(raw)


def decompress_stream(raw: IO[bytes], kind: str, resync: bool = False, **piece) -> IO[bytes]:
    """A buffered stream of `raw`'s decompressed bytes (`piece`: DecompressingReader's base and
    stop_at, for a piece of a multi-member file); `.raw` is the DecompressingReader."""
    return _KeepingBufferedReader(DecompressingReader(raw, kind, resync, **piece), buffer_size=_CHUNK)


def open_decompressed(path: str, sniff: bool = False, resync: bool = False) -> IO[bytes]:
    """A buffered binary stream of the decompressed bytes of `path` (by extension; with `sniff`,
    by the leading magic bytes when the extension names no compression). With `resync`, a corrupt
    gzip member / bz2 stream is skipped: the stream's `.raw.gaps` (when it has a `.raw`) lists the
    losses."""
    raw = open_binary(path)
    kind = compression_of(path) or (_sniff(raw) if sniff else None)
    if kind is None:
        return raw
    return decompress_stream(raw, kind, resync)


def one_ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, each handed out once the next one has been read (or the end): the gaps a stream's
    reader found while reading on are then known when the item is looked at. An error reading
    on comes after the item held."""
    nothing = object()
    held: object = nothing
    items = iter(items)
    while True:
        try:
            item = next(items)
        except StopIteration:
            break
        except Exception:
            if held is not nothing:
                yield held  # type: ignore[misc]
            raise
        if held is not nothing:
            yield held  # type: ignore[misc]
        held = item
    if held is not nothing:
        yield held  # type: ignore[misc]


def stream_gaps(stream: IO[bytes]) -> list[Gap]:
    """The gaps of a stream from `open_decompressed(..., resync=True)` (none for a plain file)."""
    return getattr(getattr(stream, "raw", None), "gaps", [])


class ErrorLatch(io.RawIOBase):
    """Ends a stream cleanly at its first read error and keeps the error in `.error`.

    For consumers (fastwarc) that read ahead a buffer at a time and would lose the records
    already buffered if an exception went through them."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self.error: BaseException | None = None
        self._pos = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def readinto(self, b) -> int:
        if self.error is not None:
            return 0
        # read1: one underlying read, so an error cannot discard bytes gathered before it.
        read = getattr(self._stream, "read1", self._stream.read)
        try:
            data = read(len(b))
        except STREAM_ERRORS as exc:
            self.error = exc
            return 0
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            super().close()


# What reading a broken compressed stream raises (truncation shows up as EOFError).
STREAM_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, lzma.LZMAError, OSError)


def stream_error_reason(path: str, exc: BaseException) -> str:
    """A named reason for a stream that broke: `truncated_gzip`, `corrupt_bz2`, `read_error`..."""
    kind = compression_of(path) or "file"
    if isinstance(exc, EOFError):
        return f"truncated_{kind}"
    if isinstance(exc, (gzip.BadGzipFile, zlib.error, lzma.LZMAError)) or "Invalid data stream" in str(exc):
        return f"corrupt_{kind}"
    return "read_error"


def read_bounded_lines(stream: IO[bytes], max_line_bytes: int, chunk: int = 1 << 16):
    """Yield (line_bytes | None, length) per line; None for a line longer than `max_line_bytes`
    (newline excluded), whose bytes are skipped without being held in memory (a 100 MB
    single-line file costs one chunk of memory)."""
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        body = len(line) - 1 if line.endswith(b"\n") else len(line)
        if body <= max_line_bytes:
            yield line, len(line)
            continue
        total = len(line)
        while not line.endswith(b"\n"):
            line = stream.readline(chunk)
            if not line:
                break
            total += len(line)
        yield None, total

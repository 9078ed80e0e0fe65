"""Transparent decompression by file extension, with named reasons for broken streams.

The stdlib `GzipFile`/`BZ2File` raise `EOFError` on a truncated stream from inside a `read(n)`
call and throw away what that call had already decompressed (up to a buffer's worth of records
before the cut). `open_decompressed` instead decompresses incrementally and raises only once every
byte before the cut has been handed out, so a reader yields all complete records, then one Drop.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from typing import IO, Callable

from pipelines.sources.files import open_binary

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


class DecompressingReader(io.RawIOBase):
    """Multi-member (concatenated) gzip/bz2/xz stream, decompressed `max_length` bytes at a time so
    that memory stays bounded even for a decompression bomb. A stream cut inside a member raises
    `EOFError` only after all bytes decompressed before the cut were returned."""

    def __init__(self, raw: IO[bytes], kind: str):
        self._raw = raw
        self._new = _DECOMPRESSORS[kind]
        self._d = self._new()
        self._member_bytes = 0  # compressed bytes fed to the current member (0: clean boundary)
        self._carry = b""  # input left over after the previous member ended
        self._pos = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:  # fastwarc asks for the position; the decompressed offset is the truth
        return self._pos

    def readinto(self, b) -> int:
        while True:
            if self._d.eof:
                self._carry = self._d.unused_data + self._carry
                self._d = self._new()
                self._member_bytes = 0
            data = b""
            if self._d.needs_input:
                data, self._carry = (self._carry, b"") if self._carry else (self._raw.read(_CHUNK), b"")
                if not data:
                    if self._member_bytes == 0:
                        return 0
                    raise EOFError("compressed stream ended before the end-of-stream marker")
                self._member_bytes += len(data)
            out = self._d.decompress(data, len(b))
            if out:
                b[: len(out)] = out
                self._pos += len(out)
                return len(out)

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


def open_decompressed(path: str, sniff: bool = False) -> IO[bytes]:
    """A buffered binary stream of the decompressed bytes of `path` (by extension; with `sniff`,
    by the leading magic bytes when the extension names no compression)."""
    raw = open_binary(path)
    kind = compression_of(path) or (_sniff(raw) if sniff else None)
    if kind is None:
        return raw
    return _KeepingBufferedReader(DecompressingReader(raw, kind), buffer_size=_CHUNK)


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

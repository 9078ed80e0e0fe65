"""Transparent decompression by file extension, with named reasons for broken streams."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from typing import IO

from pipelines.sources.files import open_binary

_SUFFIX = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}


def compression_of(path: str) -> str | None:
    for suffix, name in _SUFFIX.items():
        if path.endswith(suffix):
            return name
    return None


def open_decompressed(path: str) -> IO[bytes]:
    """A binary stream of the decompressed bytes of `path`."""
    raw = open_binary(path)
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "bz2":
        return bz2.BZ2File(raw, mode="rb")
    if kind == "xz":
        return lzma.LZMAFile(raw, mode="rb")
    return raw


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
    """Yield (line_bytes | None, length) per line; None for a line longer than `max_line_bytes`,
    whose bytes are skipped without being held in memory (a 100 MB single-line file costs one
    chunk of memory)."""
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        if len(line) <= max_line_bytes or line.endswith(b"\n") and len(line) <= max_line_bytes + 1:
            yield line, len(line)
            continue
        total = len(line)
        while not line.endswith(b"\n"):
            line = stream.readline(chunk)
            if not line:
                break
            total += len(line)
        yield None, total

"""Pieces of one large file: where the records of a byte range start, for the readers that split
WARC/WET/ARC files and MediaWiki dumps (pipelines/partition.py plans the ranges).

A piece [start, end) of a file owns the records that start in it, found the way the jsonl reader
finds lines: from `start`, scan forward to the first record start (a piece whose range holds none
owns nothing), read from there, and stop at the next piece's first record, found by the same scan
from `end` (so adjacent pieces agree on their border whatever lies between). The scans are exact,
not heuristic, because every candidate is verified:

- an uncompressed WARC: a `WARC/x.y` line at a line start whose header parses, declares a length,
  and whose block is followed by blank lines and the next record's version line (or the end); an
  ARC: a record header line whose declared length lands on the next header line (or the end);
- a compressed file: a member start by its magic (gzip `1f 8b 08`, bz2 `BZh[1-9]` + the block magic
  `1AY&SY`) that decompresses, and for a WARC to a record header. Records are then owned by the
  member they start in (a `.warc.gz` holds one record per member, a multistream dump ~100 pages per
  stream): a piece decompresses from its first member and `DecompressingReader.limit` says where
  the next piece's first member begins in its output.

A compressed file that is one stream (one gzip member for a whole WARC, a single-stream bz2 dump)
has no such starts: `splittable` finds out from its first MiB, and its first piece reads it whole
while the others own nothing (the readers yield a `Note` that says so). The planner asks the same
question once per file (`probe_splittable`) and plans such a file as one piece, so there are no
empty pieces to start.

Every read goes through pipelines/storage.py (`open_read`: seek and ranged reads, local or s3://).
"""

from __future__ import annotations

import io
import re
from typing import IO, Callable, Iterator

from pipelines import storage
from pipelines.sources.base import Note
from pipelines.sources.compression import _DECOMPRESS_ERRORS, _DECOMPRESSORS, _MEMBER_START, decompress_stream

# A multi-member file shows its second member within this many bytes (a WARC's warcinfo record, a
# multistream dump's header stream: a few KB); a file whose first member runs past it is read whole.
PROBE_BYTES = 1 << 20
_FIRST_PROBE = 64 << 10  # where a WARC's warcinfo member / a dump's header stream ends, looked at first
_WINDOW = 1 << 20  # bytes scanned per read when looking for a record start
_OVERLAP = 64  # a candidate cut by a window's end is matched whole in the window's overlap
_HEAD_IN = 4 << 20  # compressed bytes fed to verify a member (a bz2 block, up to 900 kB, decodes whole)

Finder = Callable[[IO[bytes], int, "int | None"], "int | None"]


def open_raw(path: str, block_size: int | None = None) -> IO[bytes]:
    """The file's raw bytes, seekable, local or remote (`block_size`: bytes per ranged GET)."""
    return storage.open_read(path) if block_size is None else storage.open_read(path, block_size)


def file_size(f: IO[bytes]) -> int:
    size = f.seek(0, io.SEEK_END)
    f.seek(0)
    return size


def find_start(f: IO[bytes], start: int, stop: int | None, candidates: re.Pattern,
               verify: Callable[[IO[bytes], int], bool]) -> int | None:
    """The first offset p in [start, stop) (stop None: up to the end of the file) where `candidates`
    matches and `verify(f, p)` holds; None: there is none. The window starts one byte early so that a
    pattern may look behind (a line start)."""
    pos = max(start - 1, 0)
    while stop is None or pos < stop:
        span = _WINDOW if stop is None else min(_WINDOW, stop - pos)  # (no read far past `stop`)
        f.seek(pos)
        window = f.read(span + _OVERLAP)
        if not window:
            return None
        for m in candidates.finditer(window):
            if m.start() >= span:
                break  # matched again, whole, by the next window
            p = pos + m.start()
            if p < start:
                continue
            if stop is not None and p >= stop:
                return None
            if verify(f, p):
                return p
        if len(window) <= span:
            return None
        pos += span
    return None


def member_head(f: IO[bytes], kind: str, at: int, want: int = 256) -> bytes | None:
    """The first `want` decompressed bytes of the member (gzip) or stream (bz2) starting at `at`;
    None when it does not decompress (a magic found by chance in compressed data)."""
    d = _DECOMPRESSORS[kind]()
    f.seek(at)
    out, fed = b"", 0
    while len(out) < want and not d.eof:
        data = b""
        if d.needs_input:
            if fed >= _HEAD_IN:
                break
            data = f.read(1 << 16)
            if not data:
                break
            fed += len(data)
        try:
            out += d.decompress(data, want - len(out))
        except _DECOMPRESS_ERRORS:
            return None
    return out or None


def member_finder(kind: str, accept: Callable[[bytes], bool]) -> Finder:
    """Finds the next member start whose decompressed head `accept`s."""
    pattern = _MEMBER_START[kind]

    def verify(f: IO[bytes], p: int) -> bool:
        head = member_head(f, kind, p)
        return head is not None and accept(head)

    return lambda f, start, stop: find_start(f, start, stop, pattern, verify)


def splittable(f: IO[bytes], find: Finder, size: int) -> bool:
    """Whether a compressed file holds a second member start in its first PROBE_BYTES (a file gzipped
    per record, a multistream dump): a single stream cannot be split. The first _FIRST_PROBE bytes
    are looked at first: a multi-member file shows its second member there (the same answer as one
    look at PROBE_BYTES, with a smaller read)."""
    edge = min(size, _FIRST_PROBE)
    return find(f, 1, edge) is not None or (size > edge and find(f, edge, min(size, PROBE_BYTES)) is not None)


_PROBE_BLOCK = 64 * 1024  # the probe looks at 64 KiB first: no 8 MiB GET for it on an object store


def probe_splittable(path: str, kind: str) -> bool:
    """For the planner, once per file: whether the `kind` (gzip, bz2) file at `path` can be split,
    by the readers' own test (`splittable`) with any member start that decompresses (the web reader
    also wants a WARC record in it: a file that passes here but not there is still read whole by its
    first piece)."""
    with open_raw(path, block_size=_PROBE_BLOCK) as f:
        return splittable(f, member_finder(kind, lambda head: True), file_size(f))


def bounds(f: IO[bytes], find: Finder, start: int, end: int, size: int) -> tuple[int | None, int | None]:
    """(first record start of the piece [start, end), the next piece's first record start): the
    first piece starts at 0 (a file's head is its own); None: the piece owns nothing / is last."""
    first = 0 if start == 0 else find(f, start, end)
    if first is None:
        return None, None
    return first, (find(f, end, None) if end < size else None)


def decompressed_piece(f: IO[bytes], kind: str, first: int, next_start: int | None, resync: bool = True
                       ) -> IO[bytes]:
    """A buffered stream of the members from `first` on (`resync`: past corrupt ones, as the web and
    encyclopedia readers read whole files); its `.raw.limit` is where the member at `next_start`
    begins in it."""
    f.seek(first)
    return decompress_stream(f, kind, resync=resync, base=first, stop_at=next_start)


def read_piece(path: str, start: int, plan: Callable[[IO[bytes], int], "Iterator | str | None"],
               whole: Callable[[], Iterator]) -> Iterator:
    """The records of the piece of `path` that starts at `start`. `plan(f, size)` (f: the raw file)
    gives the piece's records (a generator that takes `f` over and closes it), None when the piece
    owns nothing, or the reason the file cannot be split: then its first piece reads it `whole`,
    after a Note that says so, and the others own nothing."""
    f = open_raw(path)
    try:
        got = plan(f, file_size(f))
    except BaseException:
        f.close()
        raise
    if got is None or isinstance(got, str):
        f.close()
        if isinstance(got, str) and start == 0:
            yield Note(f"unsplit_{got}", f"{path}: {got.replace('_', ' ')}, read whole")
            yield from whole()
        return
    yield from got

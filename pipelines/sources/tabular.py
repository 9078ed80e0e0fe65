"""`jsonl` (one JSON object a line, optionally .gz/.bz2/.xz) and `parquet` sources with a text field."""

from __future__ import annotations

import json
from typing import Any, Iterator

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources import pieces
from pipelines.sources.base import Doc, Drop, Note, Record
from pipelines.sources.compression import STREAM_ERRORS, compression_of, open_decompressed, read_bounded_lines, \
    stream_error_reason
from pipelines.sources.files import open_binary


def _record(obj: Any, src: SourceConfig, extra_meta: dict[str, Any]) -> Record:
    if not isinstance(obj, dict):
        return Drop("not_an_object")
    text = obj.get(src.text_field)
    rid = obj.get(src.id_field)
    rid = None if rid is None else str(rid)
    if not isinstance(text, str):
        return Drop("missing_text", id=rid)
    if not text.strip():
        return Drop("empty_text", id=rid)
    meta = {k: v for k, v in obj.items() if k not in (src.text_field, src.id_field)}
    meta.update(extra_meta)
    return Doc(text=text, meta=meta, id=rid)


def _with_position(rec: Record, key: str, index: int) -> Record:
    """A dropped record says where it was (0-based line or row), so it can be found again."""
    if isinstance(rec, Drop):
        rec.meta[key] = index
    return rec


def _ranged_lines(stream, start: int, end: int, max_line_bytes: int):
    """The lines of an uncompressed file that begin in [start, end): the byte-range part of a
    large file. A range owns a line when the line's first byte lies in it, so adjacent ranges
    cover every line exactly once wherever the cuts fall."""
    if start > 0:
        stream.seek(start - 1)
        if stream.read(1) != b"\n":  # mid-line: that line belongs to the range before
            for _ in read_bounded_lines(stream, max_line_bytes):
                break
    pos = stream.tell()
    for line, n in read_bounded_lines(stream, max_line_bytes):
        if pos >= end:
            return
        yield line, n
        pos += n


def _compressed_lines(stream, max_line_bytes: int, lead: bool, limit):
    """The lines of a piece of a multi-member compressed file, decompressed from its first member
    on. Whether that member's output starts a line is not known without the member before, so the
    border is biased to the piece before: it owns every line that starts at or before `limit()`
    (where the next piece's first member begins in its output), and a piece skips its first line
    (`lead`), which the piece before has read. An error while skipping is the piece before's."""
    pos = 0
    lines = read_bounded_lines(stream, max_line_bytes)
    while True:
        try:
            item = next(lines, None)
        except STREAM_ERRORS:
            if lead:
                return
            raise
        if item is None:
            return
        stop = limit()
        if stop is not None and pos > stop:
            return
        pos += item[1]
        if lead:
            lead = False
            continue
        yield item


def read_jsonl(path: str, src: SourceConfig, cfg: ReadConfig, byte_range: tuple[int, int] | None = None
               ) -> Iterator[Record | Note]:
    """Records of a jsonl file, or of the lines starting in `byte_range` (an uncompressed file
    split into parts; a gzip/bz2 file of several members by the members starting in it, e.g.
    bgzip's or pbzip2's): there a record's position is its line within the range."""
    if byte_range is not None and compression_of(path):
        yield from _compressed_piece(path, src, cfg, *byte_range)
        return
    try:
        with open_decompressed(path) as stream:
            lines = (read_bounded_lines(stream, cfg.max_line_bytes) if byte_range is None
                     else _ranged_lines(stream, byte_range[0], byte_range[1], cfg.max_line_bytes))
            yield from _line_records(lines, src, empty=byte_range is None)
    except STREAM_ERRORS as exc:
        yield Drop(stream_error_reason(path, exc))


def _compressed_piece(path: str, src: SourceConfig, cfg: ReadConfig, start: int, end: int
                      ) -> Iterator[Record | Note]:
    def plan(f, size: int):
        kind = compression_of(path)
        if kind not in ("gzip", "bz2"):
            return f"{kind}_jsonl"
        find = pieces.member_finder(kind, lambda head: True)
        if not pieces.splittable(f, find, size):
            return f"single_{kind}_stream"
        first, following = pieces.bounds(f, find, start, end, size)
        if first is None:
            return None
        return _member_records(path, pieces.decompressed_piece(f, kind, first, following, resync=False), src, cfg,
                               first)

    return pieces.read_piece(path, start, plan, lambda: read_jsonl(path, src, cfg))


def _member_records(path: str, stream, src: SourceConfig, cfg: ReadConfig, first: int) -> Iterator[Record]:
    try:
        with stream:
            lines = _compressed_lines(stream, cfg.max_line_bytes, first > 0, lambda: stream.raw.limit)
            yield from _line_records(lines, src, empty=first == 0)
    except STREAM_ERRORS as exc:
        yield Drop(stream_error_reason(path, exc))


def _line_records(lines, src: SourceConfig, empty: bool) -> Iterator[Record]:
    """Records of (line bytes | None, length) pairs; `empty`: a file without a line is a drop."""
    any_line = False
    for lineno, (line, _n) in enumerate(lines):
        any_line = True
        if line is None:
            yield Drop("line_too_long", meta={"line": lineno})
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            yield Drop("undecodable_bytes", meta={"line": lineno})
            continue
        except json.JSONDecodeError:
            yield Drop("invalid_json", meta={"line": lineno})
            continue
        yield _with_position(_record(obj, src, {}), "line", lineno)
    if not any_line and empty:
        yield Drop("empty_file")


def read_parquet(path: str, src: SourceConfig, cfg: ReadConfig, row_groups: tuple[int, int] | None = None
                 ) -> Iterator[Record]:
    """Records of a parquet file, or of its row groups [a, b) (a large file split into parts)."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(open_binary(path))
    except Exception:  # pyarrow raises ArrowInvalid / OSError for a file that is not Parquet
        yield Drop("invalid_parquet")
        return
    if src.text_field not in pf.schema_arrow.names:
        yield Drop(f"missing_column_{src.text_field}")
        return
    if pf.metadata.num_rows == 0:
        yield Drop("empty_file")
        return
    groups = list(range(*row_groups)) if row_groups else None
    row = sum(pf.metadata.row_group(g).num_rows for g in range(row_groups[0])) if row_groups else 0
    for rb in pf.iter_batches(batch_size=cfg.batch_rows, row_groups=groups):
        for obj in rb.to_pylist():
            yield _with_position(_record(obj, src, {}), "row", row)
            row += 1

"""`jsonl` (one JSON object a line, optionally .gz/.bz2/.xz) and `parquet` sources with a text field."""

from __future__ import annotations

import json
from typing import Any, Iterator

from pipelines.config import ReadConfig, SourceConfig
from pipelines.sources.base import Doc, Drop, Record
from pipelines.sources.compression import STREAM_ERRORS, open_decompressed, read_bounded_lines, stream_error_reason
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


def read_jsonl(path: str, src: SourceConfig, cfg: ReadConfig, byte_range: tuple[int, int] | None = None
               ) -> Iterator[Record]:
    """Records of a jsonl file, or of the lines starting in `byte_range` (an uncompressed file
    split into parts): there a record's position is its line within the range."""
    any_line = False
    try:
        with open_decompressed(path) as stream:
            lines = (read_bounded_lines(stream, cfg.max_line_bytes) if byte_range is None
                     else _ranged_lines(stream, byte_range[0], byte_range[1], cfg.max_line_bytes))
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
    except STREAM_ERRORS as exc:
        yield Drop(stream_error_reason(path, exc))
        return
    if not any_line and not byte_range:
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

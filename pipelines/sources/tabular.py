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


def read_jsonl(path: str, src: SourceConfig, cfg: ReadConfig) -> Iterator[Record]:
    any_line = False
    try:
        with open_decompressed(path) as stream:
            for lineno, (line, _n) in enumerate(read_bounded_lines(stream, cfg.max_line_bytes)):
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
    if not any_line:
        yield Drop("empty_file")


def read_parquet(path: str, src: SourceConfig, cfg: ReadConfig) -> Iterator[Record]:
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
    row = 0
    for rb in pf.iter_batches(batch_size=cfg.batch_rows):
        for obj in rb.to_pylist():
            yield _with_position(_record(obj, src, {}), "row", row)
            row += 1

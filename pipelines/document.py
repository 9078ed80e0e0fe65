"""The document schema: the unit of work is a pyarrow Table of documents.

Core columns every stage sees: `id`, `source`, `text`, `meta` (a JSON object as a string: url,
date, path, repo, title, ... whatever the reader knows). Stages add columns (`lang`,
`quality_score`, ...). A step marks a document for removal by writing a reason into the
`drop_reason` column; the runner splits kept from dropped.

A dropped record keeps its provenance: `path` (the input file as the run shows it; for code, the
file inside its repository, with `repo` in meta) and the record's `meta` as a document has it, so
every stage's drop can be traced to its file, line, URL or WARC record.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

import pyarrow as pa

DROP_REASON = "drop_reason"
DUPLICATE_OF = "duplicate_of"

DOC_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("meta", pa.string(), nullable=False),
    ]
)

DROPPED_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("duplicate_of", pa.string()),
        pa.field("path", pa.string(), nullable=False),
        pa.field("meta", pa.string(), nullable=False),
    ]
)


def dump_meta(meta: dict[str, Any] | None) -> str:
    """Canonical JSON (sorted keys) so identical metadata gives identical bytes."""
    return json.dumps(meta or {}, sort_keys=True, ensure_ascii=False, default=str)


def documents_table(rows: Iterable[dict[str, Any]]) -> pa.Table:
    """Build a DOC_SCHEMA table from dicts with id, source, text and meta (dict)."""
    ids, sources, texts, metas = [], [], [], []
    for r in rows:
        ids.append(r["id"])
        sources.append(r["source"])
        texts.append(r["text"])
        metas.append(dump_meta(r.get("meta")))
    return pa.table([ids, sources, texts, metas], schema=DOC_SCHEMA)


def dropped_table(rows: Iterable[dict[str, Any]]) -> pa.Table:
    """Build a DROPPED_SCHEMA table from dicts with id, source, stage, reason[, duplicate_of] and
    meta (a dict); `path` defaults to meta's."""
    cols: dict[str, list] = {f.name: [] for f in DROPPED_SCHEMA}
    for r in rows:
        meta = r.get("meta") or {}
        row = {**r, "path": r.get("path") or provenance_path(meta), "meta": dump_meta(meta)}
        for name in cols:
            cols[name].append(row.get(name))
    return pa.table(cols, schema=DROPPED_SCHEMA)


def provenance_path(meta: dict[str, Any]) -> str:
    """The input file a record came from, as its meta says ("" when unknown)."""
    path = meta.get("path")
    return "" if path is None else str(path)


def split_kept_dropped(batch: pa.Table, stage: str) -> tuple[pa.Table, pa.Table]:
    """Split a processed batch on its `drop_reason` column into (kept docs, dropped records)."""
    if DROP_REASON not in batch.column_names:
        return batch, DROPPED_SCHEMA.empty_table()
    import pyarrow.compute as pc

    reasons = batch.column(DROP_REASON)
    is_dropped = pc.is_valid(reasons)
    kept = batch.filter(pc.invert(is_dropped)).drop_columns([DROP_REASON])
    if DUPLICATE_OF in kept.column_names:
        kept = kept.drop_columns([DUPLICATE_OF])
    gone = batch.filter(is_dropped)
    n = gone.num_rows
    dup = gone.column(DUPLICATE_OF) if DUPLICATE_OF in gone.column_names else pa.nulls(n, pa.string())
    metas = gone.column("meta").to_pylist() if "meta" in gone.column_names else ["{}"] * n
    paths = [provenance_path(json.loads(m)) for m in metas]
    dropped = pa.table(
        [gone.column("id"), gone.column("source"), pa.array([stage] * n, pa.string()), gone.column(DROP_REASON), dup,
         pa.array(paths, pa.string()), pa.array(metas, pa.string())],
        schema=DROPPED_SCHEMA,
    )
    return kept, dropped

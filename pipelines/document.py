"""The document schema: the unit of work is a pyarrow Table of documents.

Core columns every stage sees: `id`, `source`, `text`, `meta` (a JSON object as a string: url,
date, path, repo, title, ... whatever the reader knows). Stages add columns (`lang`,
`quality_score`, ...). A step marks a document for removal by writing a reason into the
`drop_reason` column; the runner splits kept from dropped.
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
    """Build a DROPPED_SCHEMA table from dicts with id, source, stage, reason[, duplicate_of]."""
    cols: dict[str, list] = {f.name: [] for f in DROPPED_SCHEMA}
    for r in rows:
        for name in cols:
            cols[name].append(r.get(name))
    return pa.table(cols, schema=DROPPED_SCHEMA)


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
    dropped = pa.table(
        [gone.column("id"), gone.column("source"), pa.array([stage] * n, pa.string()), gone.column(DROP_REASON), dup],
        schema=DROPPED_SCHEMA,
    )
    return kept, dropped

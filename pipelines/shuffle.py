"""Shuffle files: one file per task per round, rows sorted by destination (one row group per
destination), read back by destination. Used by every distributed step that regroups rows (the
dedup rounds, the shards stage's range-partitioned sort)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines import storage

_DESTS = b"grist.dests"


def write_by_dest(path: Path, table: pa.Table, dest: np.ndarray | None) -> None:
    """Write `table` as one file, rows sorted (stably) by `dest`, one row group per destination.
    `dest=None`: one destination 0."""
    if dest is None:
        dest = np.zeros(table.num_rows, np.int64)
    dest = np.asarray(dest, np.int64)
    order = np.argsort(dest, kind="stable")
    d = dest[order]
    bounds = np.concatenate(([0], np.flatnonzero(d[1:] != d[:-1]) + 1, [len(d)])) if len(d) else np.zeros(1, np.int64)
    dests = [int(d[s]) for s in bounds[:-1]]
    schema = table.schema.with_metadata({_DESTS: json.dumps(dests).encode()})
    # uncompressed: the rows are mostly random 32/64-bit hashes (zstd gained nothing and cost a fifth
    # of the scan), no dictionary pages for the same reason; scratch files, so committed without
    # fsync (the marker after them is durable). Streamed to the file one destination at a time:
    # no sorted copy of the whole table, no whole file in memory (a 16 MB scan part's peak -45 MiB).
    with storage.pending_commit(path, durable=False) as pending:
        with pq.ParquetWriter(pending.file, schema, compression="none", write_statistics=False,
                              use_dictionary=False) as w:
            for s, e in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
                rows = table.take(pa.array(order[s:e])).replace_schema_metadata(schema.metadata)
                w.write_table(rows, row_group_size=e - s + 1)


def read_dest(files: Iterable[str | Path], dest: int | None, schema: pa.Schema, columns: list[str] | None = None,
              keep: pa.Array | None = None) -> pa.Table:
    """Rows for destination `dest` (None: all) from each file, in file order; `keep`: only rows
    whose first column is in it (filtered per row group, so memory is the result)."""
    cols = columns or schema.names
    out: list[pa.Table] = []
    for f in files:
        pf = storage.parquet_file(f)
        dests = json.loads(pf.schema_arrow.metadata[_DESTS])
        groups = [i for i, x in enumerate(dests) if dest is None or x == dest]
        for g in groups:
            t = pf.read_row_group(g, columns=cols)
            if keep is not None:
                t = t.filter(pc.is_in(t[cols[0]], value_set=keep))
            out.append(t)
    if not out:
        return pa.schema([schema.field(c) for c in cols]).empty_table()
    return pa.concat_tables(out).replace_schema_metadata(None)

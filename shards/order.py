"""The canonical order of the shards and its cuts, as a distributed sort (no rows on the driver).

The order of a split is (key, source, id), key = `doc_key(seed, id, epoch)`: a uniform 64-bit
hash, so a range partition by key is balanced without sampling.

1. `scatter` (one task per selection file): each row gets its split (the val cut of its source,
   `shards.split`), its key and a destination = split * B + key bucket (B equal key ranges); the
   task writes ONE file, rows sorted by destination, one row group per destination
   (`pipelines.shuffle.write_by_dest`), and the tokens, documents and largest document
   of each destination (`agg/TASK.parquet`, at most 2B rows).
2. The driver sums those into each destination's first token in its split (a prefix sum over B
   numbers a split).
3. `bucket` (one task per destination): its rows from every scatter file, sorted by (key, source,
   id); a document's first token is the destination's offset + the tokens before it, its shard
   that offset // tokens_per_shard (the shard its first token falls in, as `assign_shards`). Writes
   the sorted rows by shard (one row group per shard) and returns tokens and documents per shard,
   so the driver knows every shard's size, first token and first document before a shard is
   written. A shard's rows are its destinations' row groups for it, in destination order.

Nothing depends on B or on the worker count: B only cuts the key range.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.shuffle import read_dest, write_by_dest
from pipelines import storage
from pipelines.mixture import doc_keys
from pipelines.mixture_select import below_cut, table_bytes

SPLITS = ("train", "val")
# The rows a shard is written from: its documents in order, where their tokens are.
SORTED_SCHEMA = pa.schema([("key", pa.uint64()), ("source", pa.string()), ("id", pa.string()), ("tokens", pa.int64()),
                           ("part", pa.int32()), ("pstart", pa.int64())])
# When the sort carries the tokens (shards/gather.py), each row has them too, as a last column.
TOKS = "toks"
DEST_SCHEMA = pa.schema([("dest", pa.int64()), ("tokens", pa.int64()), ("docs", pa.int64()), ("longest", pa.int64())])
SHARD_AGG_SCHEMA = pa.schema([("shard", pa.int64()), ("tokens", pa.int64()), ("docs", pa.int64())])


def bucket_of(keys: np.ndarray, buckets: int) -> np.ndarray:
    """Key range of each key: B equal ranges of the 64-bit key space, in key order."""
    if buckets <= 1:
        return np.zeros(len(keys), np.int64)
    step = np.uint64(-(-(1 << 64) // buckets))
    return (keys // step).astype(np.int64)


def order_keys(seed: int, ids: list[str], epochs: np.ndarray) -> np.ndarray:
    """`doc_key(seed, id, epoch)` of each row, one hashing pass per epoch."""
    keys = np.zeros(len(ids), np.uint64)
    for e in np.unique(epochs).tolist():
        rows = np.flatnonzero(epochs == e)
        keys[rows] = doc_keys(seed, [ids[i] for i in rows], int(e))
    return keys


def is_val(rows: pa.Table, seed: int, cuts: dict[str, list]) -> np.ndarray:
    """The val rows of selection rows: those before their source's cut in (val key, id) order."""
    out = np.zeros(rows.num_rows, bool)
    if not cuts:
        return out
    src = rows.column("source")
    for s in sorted(pc.unique(src).to_pylist()):
        if s not in cuts:
            continue
        m = pc.equal(src, s).to_numpy(zero_copy_only=False)
        ids = rows.column("id").filter(pa.array(m)).to_pylist()
        out[m] = below_cut(doc_keys(seed, ids, "val"), ids, cuts[s])
    return out


def scatter(rows: pa.Table, seed: int, cuts: dict[str, list], buckets: int, out: Path, agg: Path,
            toks: pa.Array | None = None) -> None:
    """Selection rows (id, source, epoch, tokens, part, pstart) -> one file sorted by destination
    and its per-destination totals; `toks`: each row's tokens, carried along (column `toks`)."""
    ids = rows.column("id").to_pylist()
    keys = order_keys(seed, ids, rows.column("epoch").to_numpy())
    dest = is_val(rows, seed, cuts).astype(np.int64) * buckets + bucket_of(keys, buckets)
    table = pa.table({"key": pa.array(keys, pa.uint64()), "source": rows.column("source"), "id": rows.column("id"),
                      "tokens": rows.column("tokens"), "part": rows.column("part"), "pstart": rows.column("pstart")},
                     schema=SORTED_SCHEMA)
    if toks is not None:
        table = table.append_column(TOKS, toks)
    write_by_dest(out, table, dest)
    tokens = rows.column("tokens").to_numpy().astype(np.int64)
    nz = np.unique(dest)
    tot = np.bincount(dest, weights=tokens.astype(np.float64), minlength=2 * buckets).round().astype(np.int64)
    docs = np.bincount(dest, minlength=2 * buckets).astype(np.int64)
    longest = np.zeros(2 * buckets, np.int64)
    np.maximum.at(longest, dest, tokens)
    storage.commit_bytes(agg, table_bytes(pa.table({"dest": nz, "tokens": tot[nz], "docs": docs[nz], "longest": longest[nz]},
                                                   schema=DEST_SCHEMA)), durable=False)


def bucket_sort(files: list[str], dest: int, first_token: int, per_shard: int, out: Path) -> pa.Table:
    """One destination: its rows sorted by (key, source, id), written by shard; returns (shard,
    tokens, docs) of the shards it holds."""
    t = read_dest(files, dest, rows_schema(files))
    t = t.take(pc.sort_indices(t, [("key", "ascending"), ("source", "ascending"), ("id", "ascending")]))
    tokens = t.column("tokens").to_numpy().astype(np.int64)
    shard = (first_token + np.cumsum(tokens) - tokens) // per_shard
    write_by_dest(out, t, shard)
    nz = np.unique(shard)
    idx = np.searchsorted(nz, shard)
    return pa.table({"shard": nz.astype(np.int64),
                     "tokens": np.bincount(idx, weights=tokens.astype(np.float64), minlength=len(nz)).round().astype(np.int64),
                     "docs": np.bincount(idx, minlength=len(nz)).astype(np.int64)}, schema=SHARD_AGG_SCHEMA)


def shard_rows(files: list[str], shard: int) -> pa.Table:
    """A shard's rows, in order: its row group of each destination file (given in destination order)."""
    return read_dest(files, shard, rows_schema(files))


def rows_schema(files: list[str]) -> pa.Schema:
    """The sorted rows' schema: SORTED_SCHEMA, with `toks` when the sort carries the tokens."""
    return storage.parquet_file(files[0]).schema_arrow if files else SORTED_SCHEMA


def dest_offsets(tokens: np.ndarray, buckets: int) -> np.ndarray:
    """First token of each destination in its split (destinations: train buckets, then val)."""
    out = np.zeros(2 * buckets, np.int64)
    for k in range(2):
        part = tokens[k * buckets:(k + 1) * buckets]
        out[k * buckets:(k + 1) * buckets] = np.cumsum(part) - part
    return out


def summed(files: list[Any], schema: pa.Schema, key: str, size: int) -> dict[str, np.ndarray]:
    """Columns of small aggregate files summed by `key` into arrays of `size` (`longest`: max)."""
    out = {c: np.zeros(size, np.int64) for c in schema.names if c != key}
    for f in files:
        t = storage.read_table(f)
        k = t.column(key).to_numpy()
        for c in out:
            if c == "longest":
                np.maximum.at(out[c], k, t.column(c).to_numpy())
            else:
                np.add.at(out[c], k, t.column(c).to_numpy())
    return out

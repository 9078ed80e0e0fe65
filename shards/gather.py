"""Where a shard's tokens come from: the token parts the tokenize tasks wrote, read by offset.

A document is found by its token part and its first token in it (`part`, `pstart` of the
selection rows). Local token parts are memory-mapped, so gathering copies only the tokens a shard
holds. On an object store a part is read a record batch at a time by ranged reads and the batches
read are kept, so the tokens are gathered once, in the sort's `scatter` round (one selection file
= one token part, read through once), and travel with the sorted rows from there (shards/order.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from pipelines import storage


class PartTokens:
    """One token part, opened lazily (memory-mapped when local): per record batch its token values
    and its first token in the part, so a document is found by its `pstart` alone (no per-row
    arrays: memory is the batches touched)."""

    def __init__(self, path: Path):
        self.reader = pa.ipc.open_file(storage.open_arrow(path))
        self.values: dict[int, np.ndarray] = {}
        lens = [self.reader.get_batch(b).column(2).offsets for b in range(self.reader.num_record_batches)]
        sizes = np.array([int(o[-1].as_py()) - int(o[0].as_py()) if len(o) else 0 for o in lens], np.int64)
        self.starts = np.cumsum(sizes) - sizes

    def batch(self, b: int) -> np.ndarray:
        if b not in self.values:
            arr = self.reader.get_batch(b).column(2)
            off = arr.offsets.to_numpy()
            self.values[b] = arr.values.to_numpy(zero_copy_only=True)[off[0]: off[-1]]
        return self.values[b]

    def gather_into(self, out: np.ndarray, dst_start: np.ndarray, pstart: np.ndarray, lens: np.ndarray) -> None:
        """Copy each document (first token `pstart` in the part, `lens` tokens) to `out[dst_start:]`,
        one vectorised copy per record batch."""
        batch = np.searchsorted(self.starts, pstart, side="right") - 1
        for b, pos in _groups(batch):
            glen = lens[pos]
            within = np.arange(int(glen.sum())) - np.repeat(np.cumsum(glen) - glen, glen)
            src = np.repeat(pstart[pos] - self.starts[b], glen) + within
            out[np.repeat(dst_start[pos], glen) + within] = self.batch(b)[src]


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """[lo, hi) of each run of equal consecutive values."""
    if not len(values):
        return []
    b = np.concatenate([[0], np.flatnonzero(np.diff(values)) + 1, [len(values)]])
    return list(zip(b[:-1].tolist(), b[1:].tolist()))


def _groups(keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(key, positions) for each distinct key."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    return [(int(sk[lo]), order[lo:hi]) for lo, hi in _runs(sk)]


class TokenParts:
    """The token parts by index (`part` of a selection row), each opened once."""

    def __init__(self, files: list[str]):
        self.files = files
        self.opened: dict[int, PartTokens] = {}

    def __call__(self, k: int) -> PartTokens:
        if k not in self.opened:
            self.opened[k] = PartTokens(storage.location(self.files[k]))
        return self.opened[k]


def _offsets(rows: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(tokens per row, row offsets into the flat tokens)."""
    lens = rows.column("tokens").to_numpy().astype(np.int64)
    offsets = np.zeros(len(lens) + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    return lens, offsets


def gather_tokens(parts: TokenParts, rows: pa.Table, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(flat tokens, offsets) of selection rows in their order: row i's `tokens` tokens starting at
    `pstart` in token part `part`."""
    lens, offsets = _offsets(rows)
    flat = np.empty(int(offsets[-1]), dtype=dtype)
    part_col = rows.column("part").to_numpy()
    pstart = rows.column("pstart").to_numpy().astype(np.int64)
    for k, pos in _groups(part_col):
        parts(k).gather_into(flat, offsets[pos], pstart[pos], lens[pos])
    return flat, offsets


def carried_tokens(rows: pa.Table, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(flat tokens, offsets) of sorted rows that carry their tokens (column `toks`): one copy."""
    from shards.order import TOKS

    values = [c.flatten().to_numpy(zero_copy_only=False) for c in rows.column(TOKS).chunks]
    flat = np.concatenate(values).astype(dtype, copy=False) if values else np.empty(0, dtype)
    _, offsets = _offsets(rows)
    if int(offsets[-1]) != len(flat):
        raise ValueError(f"sorted rows carry {len(flat):,} tokens, their counts say {int(offsets[-1]):,}")
    return flat, offsets

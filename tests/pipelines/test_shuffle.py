"""Shuffle files (pipelines/shuffle.py): written in budgeted batches, read back by destination."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.shuffle import DestWriter, read_dest, write_by_dest

SCHEMA = pa.schema([("key", pa.uint64()), ("hashes", pa.list_(pa.uint32()))])


def _rows(rng: np.random.Generator, n: int, start: int) -> tuple[pa.Table, np.ndarray]:
    keys = np.arange(start, start + n, dtype=np.uint64)
    lens = rng.integers(0, 50, n)
    offsets = np.concatenate(([0], np.cumsum(lens))).astype(np.int32)
    values = rng.integers(0, 2**32, int(offsets[-1]), dtype=np.uint64).astype(np.uint32)
    table = pa.table([pa.array(keys), pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))], schema=SCHEMA)
    return table, rng.integers(0, 5, n)


def test_budgeted_batches_read_back_as_one_sorted_write(tmp_path):
    rng = np.random.default_rng(0)
    batches = [_rows(rng, 300, 300 * i) for i in range(12)]
    with DestWriter(tmp_path / "streamed.parquet", SCHEMA, budget_bytes=20_000) as w:
        for table, dest in batches:
            w.add(table, dest)
    whole = pa.concat_tables([t for t, _ in batches])
    write_by_dest(tmp_path / "whole.parquet", whole, np.concatenate([d for _, d in batches]))

    flushes = pq.ParquetFile(tmp_path / "streamed.parquet").metadata.num_row_groups
    assert flushes > 5 * 5  # the budget made it flush many times, one row group per destination each
    assert pq.ParquetFile(tmp_path / "whole.parquet").metadata.num_row_groups == 5
    for d in range(5):
        got = read_dest([tmp_path / "streamed.parquet"], d, SCHEMA)
        assert got.equals(read_dest([tmp_path / "whole.parquet"], d, SCHEMA))
        keys = got["key"].to_numpy()
        assert len(keys) and (np.diff(keys.astype(np.int64)) > 0).all()  # a destination's rows keep their order
    assert read_dest([tmp_path / "streamed.parquet"], None, SCHEMA).num_rows == whole.num_rows


def test_an_empty_shuffle_file_reads_as_no_rows(tmp_path):
    with DestWriter(tmp_path / "empty.parquet", SCHEMA, budget_bytes=1) as w:
        w.add(SCHEMA.empty_table(), np.zeros(0, np.int64))
    assert read_dest([tmp_path / "empty.parquet"], 3, SCHEMA).num_rows == 0


def test_an_error_inside_the_block_leaves_no_file(tmp_path):
    rng = np.random.default_rng(1)
    with pytest.raises(RuntimeError, match="lost"):
        with DestWriter(tmp_path / "lost.parquet", SCHEMA, budget_bytes=1_000) as w:
            w.add(*_rows(rng, 500, 0))  # flushed: bytes in the pending file already
            raise RuntimeError("lost worker")
    assert list(tmp_path.iterdir()) == []

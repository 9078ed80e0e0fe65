"""Tokenizing one part of documents into a token part (no Ray here; the runner maps it).

A token part is an uncompressed Arrow IPC file in the shard schema (`id`, `source`, `tokens`),
one record batch per `encode_batch` call, every document followed by the end-of-text token; its
catalog (`catalog/PART.parquet`: id, source, tokens per document) is what the driver plans with,
so the driver never opens token parts. The ids go from `encode_batch_fast` (no character offsets,
the GIL released, one Rust thread per CPU the task holds) straight into one numpy buffer: the
Python side (ids lists, `np.fromiter`, `np.insert`) is about 4% of the encoding's CPU on real text,
two thirds of it `Encoding.ids` itself. Measured on the peer corpus (benchmarks/bench_peers_tokenize.py,
2 workers): the tokenize tasks make 0.98-1.01x the tokens per CPU-second of a bare
`encode_batch_fast` loop, and 1.35x `encode_batch` (which computes character offsets). A larger BPE
word cache does not help: `_resize_cache(1_000_000)` took 2.83-2.89 s vs 2.24-2.29 s at the default
10,000 on 8 MB of text (one process each, alternating).
"""

from __future__ import annotations

import os
import time
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines import storage
from pipelines.parts import PartStats, atomic_write_bytes, atomic_write_json
from pipelines.storage import parquet_file
from pipelines.step import Resources
from shards.format import ipc_writer, shard_schema, token_dtype, tokens_array


# What the driver plans with: one row per document of a token part, in the part's order.
CATALOG_SCHEMA = pa.schema([("id", pa.string()), ("source", pa.string()), ("tokens", pa.int64())])


def encode_texts(tok, texts: list[str], eot: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(flat tokens, int64 offsets) of `texts`, each followed by `eot`."""
    ids = [e.ids for e in tok.encode_batch_fast(texts, add_special_tokens=False)]
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    body = np.fromiter(chain.from_iterable(ids), dtype=dtype, count=int(lengths.sum()))
    flat = np.insert(body, np.cumsum(lengths), np.asarray(eot, dtype=dtype))
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=offsets[1:])
    return flat, offsets


class TokenizePartTask:
    """Part task: spec = {"part", "input", "source"} -> `work/tokens/PART.arrow` + `work/stats/PART.json`.
    The tokenizer is loaded once per worker process in `setup()` (the runner keeps the task there)."""

    def __init__(self, tokenizer_file: str, work: Path, batch_rows: int = 512, cpus: float = 1.0):
        self.tokenizer_file = tokenizer_file
        self.work = storage.location(work)
        self.batch_rows = batch_rows
        self.resources = Resources(cpus=cpus)
        self.tok = None

    def setup(self) -> None:
        # One Rust thread per CPU the task holds: the runner already runs one task per CPU, and
        # tokenizers' default (all cores in every process) oversubscribes the machine.
        os.environ["RAYON_NUM_THREADS"] = str(max(1, int(self.resources.cpus)))
        from tokenizer.train import eot_id, load_tokenizer

        self.tok = load_tokenizer(self.tokenizer_file)
        self.eot = eot_id(self.tok)
        self.vocab = self.tok.get_vocab_size(with_added_tokens=True)
        self.dtype = token_dtype(self.vocab)
        self.schema = shard_schema(self.vocab)

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        stats = PartStats(part=spec["part"], source=spec.get("source", ""))
        ids, sources, ntok = [], [], []
        # The token part is committed whole (a retried task rewrites it), then the part's catalog
        # (id, source, tokens per document: what the driver plans with), then the stats marker.
        with ipc_writer(self.work / "tokens" / f"{spec['part']}.arrow", self.schema) as (writer, _):
            pf = parquet_file(spec["input"])
            for rb in pf.iter_batches(batch_size=self.batch_rows, columns=["id", "source", "text"]):
                flat, offsets = encode_texts(self.tok, rb.column(2).to_pylist(), self.eot, self.dtype)
                stats.docs_in += rb.num_rows
                stats.bytes_in += int(pc.sum(pc.binary_length(rb.column(2))).as_py() or 0)
                writer.write_batch(pa.record_batch([rb.column(0), rb.column(1), tokens_array(flat, offsets, self.vocab)],
                                                   schema=self.schema))
                ids.append(rb.column(0))
                sources.append(rb.column(1).cast(pa.string()))
                ntok.append(np.diff(offsets))
        catalog = pa.table({"id": pa.chunked_array(ids, pa.string()), "source": pa.chunked_array(sources, pa.string()),
                            "tokens": np.concatenate(ntok) if ntok else np.zeros(0, np.int64)}, schema=CATALOG_SCHEMA)
        sink = pa.BufferOutputStream()
        pq.write_table(catalog, sink, compression="zstd")
        atomic_write_bytes(self.work / "catalog" / f"{spec['part']}.parquet", sink.getvalue().to_pybytes())
        stats.docs_out = stats.docs_in
        stats.bytes_out = stats.bytes_in
        stats.counters["tokens"] = int(catalog.column("tokens").to_numpy().sum()) if catalog.num_rows else 0
        stats.seconds = time.perf_counter() - t0
        atomic_write_json(self.work / "stats" / f"{spec['part']}.json", stats.to_json())
        return stats.to_json()

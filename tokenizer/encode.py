"""Tokenizing one part of documents into a token part (no Ray here; the runner maps it).

A token part is an uncompressed Arrow IPC file in the shard schema (`id`, `source`, `tokens`),
one record batch per `encode_batch` call, every document followed by the end-of-text token. The
ids go from `encode_batch_fast` (no character offsets) straight into one numpy buffer: the
wrapping costs a few percent of the encoding (benchmarks/bench_tokenize.py).
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

from pipelines.parts import PartStats, atomic_write_json
from pipelines.step import Resources
from shards.format import shard_schema, token_dtype, tokens_array


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
    The tokenizer is loaded once per actor in `setup()`."""

    def __init__(self, tokenizer_file: str, work: Path, batch_rows: int = 512, cpus: float = 1.0):
        self.tokenizer_file = tokenizer_file
        self.work = Path(work)
        self.batch_rows = batch_rows
        self.resources = Resources(cpus=cpus)
        self.tok = None

    def setup(self) -> None:
        # One Rust thread per CPU the actor holds: the pool already runs one actor per CPU, and
        # tokenizers' default (all cores in every actor) oversubscribes the machine.
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
        final = self.work / "tokens" / f"{spec['part']}.arrow"
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
        ntokens = 0
        try:
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, self.schema) as writer:
                pf = pq.ParquetFile(spec["input"])
                for rb in pf.iter_batches(batch_size=self.batch_rows, columns=["id", "source", "text"]):
                    texts = rb.column(2).to_pylist()
                    flat, offsets = encode_texts(self.tok, texts, self.eot, self.dtype)
                    ntokens += len(flat)
                    stats.docs_in += rb.num_rows
                    stats.bytes_in += int(pc.sum(pc.binary_length(rb.column(2))).as_py() or 0)
                    batch = pa.record_batch([rb.column(0), rb.column(1), tokens_array(flat, offsets, self.vocab)],
                                            schema=self.schema)
                    writer.write_batch(batch)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        stats.docs_out = stats.docs_in
        stats.bytes_out = stats.bytes_in
        stats.counters["tokens"] = ntokens
        stats.seconds = time.perf_counter() - t0
        atomic_write_json(self.work / "stats" / f"{spec['part']}.json", stats.to_json())
        return stats.to_json()

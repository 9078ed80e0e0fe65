"""The shards stage's rounds after tokenizing: part tasks (one class, `spec["round"]` names the
round) and how they are run. See shards/stage.py for the sequence, shards/split.py and
shards/order.py for what each round computes.

Every task writes its outputs, then its marker `WORK/stats/PART.json` (a `PartStats`), so a rerun
after a kill redoes only unmarked tasks. `mapper` runs a round through the runner (`ctx.map_parts`),
or, for a small selection, here on the driver one task after the other (`tokenizer.stage.map_small`;
memory bounded by a task).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipelines import storage
from pipelines.mixture_select import table_bytes
from pipelines.parts import PartStats, atomic_write_json
from pipelines.stage import StageContext
from pipelines.step import Resources
from shards import order
from shards.export import SplitFile, assemble
from shards.format import token_dtype
from shards.gather import TokenParts, gather_tokens
from shards.split import scan_val
from tokenizer.stage import map_small


def mapper(ctx: StageContext, inline: bool):
    """A round runner with the signature `pipelines.mixture.select_mixture` calls its rounds with:
    `ctx.map_parts` (committed parts kept), or every task here for a small selection."""
    def run(factory, specs, *, label: str, work: Path) -> list[PartStats]:
        return map_small(ctx, factory, specs, label=label, work=work, inline=inline)
    return run


class RoundTask:
    """One task of a round (spec["round"]): `vscan` (val split aggregates), `scatter`, `bucket`
    (the distributed sort), `assemble` (an export file from its pieces)."""

    def __init__(self, work: str, seed: int, token_files: list[str] | None = None, vocab: int = 0):
        self.work, self.seed = storage.location(work), seed
        self.token_files, self.vocab = token_files, vocab  # scatter carries the tokens when given
        self.resources = Resources()

    def setup(self) -> None:
        pass

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        stats = PartStats(part=spec["part"])
        getattr(self, "_" + spec["round"])(spec, stats)
        stats.seconds = time.perf_counter() - t0
        atomic_write_json(self.work / "stats" / f"{spec['part']}.json", stats.to_json())
        return stats.to_json()

    def _vscan(self, spec: dict[str, Any], stats: PartStats) -> None:
        rows = storage.read_table(spec["input"], columns=["id", "source", "epoch", "tokens"])
        counts, hist, gathered = scan_val(rows, self.seed, spec["limit"], spec["hist"], spec["gather"])
        stats.docs_in = stats.docs_out = rows.num_rows
        stats.counters.update(counts)
        storage.commit_bytes(self.work / "hist" / f"{spec['part']}.parquet", table_bytes(hist), durable=False)
        storage.commit_bytes(self.work / "rows" / f"{spec['part']}.parquet", table_bytes(gathered), durable=False)

    def _scatter(self, spec: dict[str, Any], stats: PartStats) -> None:
        rows = storage.read_table(spec["input"])
        toks = None
        if self.token_files is not None:  # one selection file: (mostly) one token part, read through once
            flat, offsets = gather_tokens(TokenParts(self.token_files), rows, token_dtype(self.vocab))
            toks = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(flat))
        order.scatter(rows, self.seed, spec["cuts"], spec["buckets"], self.work / "rows" / f"{spec['part']}.parquet",
                      self.work / "agg" / f"{spec['part']}.parquet", toks)
        stats.docs_in = stats.docs_out = rows.num_rows

    def _bucket(self, spec: dict[str, Any], stats: PartStats) -> None:
        files = storage.list_files(spec["folder"], "*.parquet")  # every scatter task's file (all committed)
        agg = order.bucket_sort(files, spec["dest"], spec["first_token"], spec["per_shard"],
                                self.work / "rows" / f"{spec['part']}.parquet")
        storage.commit_bytes(self.work / "agg" / f"{spec['part']}.parquet", table_bytes(agg), durable=False)
        stats.docs_in = stats.docs_out = int(pc.sum(agg.column("docs")).as_py() or 0)

    def _assemble(self, spec: dict[str, Any], stats: PartStats) -> None:
        sf = SplitFile(spec["path"], bytes.fromhex(spec["head"]), spec["pieces"], bytes.fromhex(spec["tail"]))
        assemble(spec["folder"], spec["pieces_dir"], sf)


class RoundFactory:
    """Picklable: each worker builds its own task."""

    def __init__(self, work: str | Path, seed: int, token_files: list[str] | None = None, vocab: int = 0):
        self.args = (str(work), seed, token_files, vocab)

    def __call__(self) -> RoundTask:
        return RoundTask(*self.args)

"""Steps: plain classes that transform Arrow batches. They never import Ray; the runner maps them
onto Ray Data actor pools (one instance per actor, `setup()` once per actor).

A step adds columns and may mark documents for removal by writing a reason into `drop_reason`
(and `duplicate_of` for duplicates). `StepPartTask` applies a step to every batch of one part and
commits kept, dropped and stats through a `PartWriter`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from pipelines import storage
from pipelines.document import split_kept_dropped
from pipelines.parts import PartStats, PartWriter, text_bytes


@dataclass(frozen=True)
class Resources:
    """What one instance of a step needs; the runner asks Ray for it per actor."""

    cpus: float = 1.0
    gpus: float = 0.0


class Step(ABC):
    """Base class of a batch transform."""

    name = "step"
    resources = Resources()

    def setup(self) -> None:
        """Load models / tokenizers once per worker."""

    @abstractmethod
    def process(self, batch: pa.Table) -> pa.Table:
        """The batch with added columns (and `drop_reason` for documents to remove)."""

    def teardown(self) -> None:
        """Release what setup() took."""


class PartTask(Protocol):
    """What the runner executes: set up once per actor, then run one part spec at a time."""

    resources: Resources

    def setup(self) -> None: ...

    def run(self, spec: dict[str, Any]) -> dict[str, Any]: ...


class StepPartTask:
    """Runs a `Step` over one input part: spec = {"part": NAME, "input": PATH, "source": NAME}."""

    def __init__(self, step: Step, stage: str, work: Path, batch_rows: int = 1000):
        self.step = step
        self.stage = stage
        self.work = storage.location(work)
        self.batch_rows = batch_rows
        self.resources = step.resources

    def setup(self) -> None:
        self.step.setup()

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        writer = PartWriter(self.work, spec["part"], spec.get("source", ""))
        try:
            pf = storage.parquet_file(spec["input"])
            out_schema = None
            for rb in pf.iter_batches(batch_size=self.batch_rows):
                batch = pa.Table.from_batches([rb])
                writer.count_in(batch.num_rows, text_bytes(batch))
                out = self.step.process(batch)
                kept, dropped = split_kept_dropped(out, self.stage)
                out_schema = kept.schema
                writer.write_kept(kept)
                writer.write_dropped(dropped)
                _merge_counters(writer.stats, self.step)
            if out_schema is None:  # an empty part: learn the output schema from an empty batch
                out = self.step.process(pf.schema_arrow.empty_table())
                out_schema = split_kept_dropped(out, self.stage)[0].schema
            return writer.commit(out_schema).to_json()
        except BaseException:
            writer.abort()
            raise


def _merge_counters(stats: PartStats, step: Step) -> None:
    """Steps may count things that are not drops (lines removed, PII replaced) in `step.counters`,
    a Counter they reset themselves; the task moves them into the part's stats after each batch."""
    counters = getattr(step, "counters", None)
    if counters:
        stats.counters.update(counters)
        counters.clear()

"""Stages and the context they run in.

A stage reads the previous stage's parts and writes its own folder under `OUTPUT/_work/`. Its
outputs depend on a hash of the config sections it names (chained with the stages before it):
when the hash changes the stage and every stage after it is redone; when it matches, committed
parts are kept and only unfinished ones run (resume after a kill).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pipelines import storage
from pipelines.config import Config
from pipelines.parts import PartStats, load_part_stats, verified_parts
from pipelines.step import PartTask, Step, StepPartTask


@dataclass
class StageResult:
    stats: PartStats
    parts: list[PartStats] = field(default_factory=list)
    # Stage-specific facts for the report (classifier metrics, mixture table, ...): JSON-able.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageContext:
    cfg: Config
    output: Path
    work: Path
    inputs: list[Path]  # kept parts of the previous documents stage (empty for `read`)
    stage_hash: str
    workers: int | None = None
    base_dir: Path | None = None
    specs: list[dict[str, Any]] | None = None  # the stage's planned input parts (Stage.plan_inputs)

    def map_parts(
        self, factory: Callable[[], PartTask], specs: list[dict[str, Any]], *, label: str, unit: str = "docs",
        cpus: float = 1.0, gpus: float = 0.0, work: Path | None = None,
    ) -> list[PartStats]:
        """Run the parts not yet committed under `work` (default: this stage's folder) on Ray and
        return the stats of all of them, committed earlier or now."""
        from pipelines.runner import map_parts

        work = work or self.work
        done = verified_parts(work, {s["part"]: s.get("key", "") for s in specs})
        todo = [s for s in specs if s["part"] not in done]
        map_parts(factory, todo, label=label, workers=self.workers, cpus=cpus, gpus=gpus, unit=unit)
        wanted = {s["part"] for s in specs}
        return [p for p in load_part_stats(work) if p.part in wanted]

    def input_specs(self) -> list[dict[str, Any]]:
        """One spec per input part: the part name (kept across stages), its path and source."""
        return [
            {"part": p.stem, "input": str(p), "source": p.stem.rsplit("-", 1)[0], "size": storage.size(p)}
            for p in self.inputs
        ]

    def map_step(self, make_step: Callable[[], Step], label: str, work: Path | None = None) -> list[PartStats]:
        """Apply a Step to every input part (one actor per worker, `setup()` once per actor)."""
        step_resources = make_step().resources
        factory = _StepTaskFactory(make_step, label, work or self.work, self.cfg.read.batch_rows)
        return self.map_parts(factory, self.input_specs(), label=label, cpus=step_resources.cpus,
                              gpus=step_resources.gpus, work=work)


@dataclass
class _StepTaskFactory:
    """Picklable factory: Ray ships it to each actor, which builds its own step there."""

    make_step: Callable[[], Step]
    stage: str
    work: Path
    batch_rows: int

    def __call__(self) -> StepPartTask:
        return StepPartTask(self.make_step(), self.stage, self.work, self.batch_rows)


class Stage(ABC):
    """Base class of a stage. `documents = True` stages turn documents into fewer documents
    (read, filters, dedup); the others make products from the final documents (mixture,
    tokenizer, shards)."""

    name = "stage"
    config_keys: tuple[str, ...] = ()
    documents = True
    # Folders under `output` the stage writes itself (classifier, tokenizer, shards): the stage
    # marker records their files' sizes, so an output truncated or removed since is redone.
    published: tuple[str, ...] = ()

    def enabled(self, cfg: Config) -> bool:
        section = getattr(cfg, self.name, None)
        return bool(getattr(section, "enabled", True))

    @abstractmethod
    def run(self, ctx: StageContext) -> StageResult:
        """Do the stage's work under `ctx.work` and return its counts."""


def merge_parts(parts: list[PartStats]) -> PartStats:
    total = PartStats()
    for p in parts:
        total.merge(p)
    return total

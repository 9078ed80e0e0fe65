"""The stage graph: read -> filters -> dedup -> (publish documents/) -> mixture -> tokenizer -> shards.

Layout under `output`: `_work/NN-STAGE/` per stage (parts + markers), `documents/` (the final kept
documents), `dropped/STAGE/` (every dropped record with its reason), `report.json`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from pathlib import Path
from typing import Any

from pipelines import __version__, storage
from pipelines.config import Config
from pipelines.parts import PartStats, atomic_write_json, kept_parts
from pipelines.progress import log
from pipelines.stage import Stage, StageContext, StageResult

# Stage classes in run order.
STAGE_CLASSES = [
    "pipelines.read_stage:ReadStage",
    "filters.stage:FilterStage",
    "filters.dedup.stage:DedupStage",
    "pipelines.mixture:MixtureStage",
    "tokenizer.stage:TokenizerStage",
    "shards.stage:ShardStage",
]


def load_stages() -> list[Stage]:
    stages = []
    for spec in STAGE_CLASSES:
        module, cls = spec.split(":")
        stages.append(getattr(importlib.import_module(module), cls)())
    return stages


def _chain_hash(prev: str, cfg: Config, stage: Stage) -> str:
    h = hashlib.sha256()
    h.update(prev.encode())
    h.update(stage.name.encode())
    h.update(__version__.encode())
    h.update(cfg.section_hash(*stage.config_keys).encode())
    return h.hexdigest()


def _outputs(work: Path, output: Path, stage: Stage) -> dict[str, int]:
    """Every file a finished stage leaves (its size), recorded in its marker: its work folder and
    the folders it publishes under `output` (`Stage.published`, e.g. the classifier, the tokenizer)."""
    files = {k: v for k, v in storage.tree_sizes(work).items() if k not in ("_SUCCESS.json", "_CONFIG.json")}
    for folder in getattr(stage, "published", ()):
        files.update({f"../../{folder}/{k}": v for k, v in storage.tree_sizes(output / folder).items()})
    return dict(sorted(files.items()))


def _changed_outputs(work: Path, recorded: dict[str, int] | None, output: Path, stage: Stage) -> list[str]:
    """Recorded outputs that are missing or have another size now (markers older than this check
    record none: nothing to compare)."""
    if not recorded:
        return []
    now = _outputs(work, output, stage)
    return [k for k, n in recorded.items() if now.get(k) != n]


def input_hash(config_hash: str, specs: list[dict[str, Any]]) -> str:
    """A planned stage's marker hash: its config and its inputs (part names and keys)."""
    return _extend_hash(config_hash, sorted(f"{s['part']}:{s.get('key', '')}" for s in specs))


def _output_digest(result: StageResult) -> list[str]:
    """What a documents stage produced: per part its kept documents and their file's sha256."""
    return sorted(f"{p.part}:{p.docs_out}:{p.files.get('kept', {}).get('sha256', '')}" for p in result.parts)


def _extend_hash(h: str, items: list[str]) -> str:
    return hashlib.sha256(json.dumps([h, items]).encode()).hexdigest()


def _publish_folder(parts: list[Path], dest: Path) -> None:
    """Make `dest` hold exactly `parts` (hard links, or server-side copies on an object store; the
    stage folders keep the originals)."""
    storage.remove_tree(dest)
    for p in parts:
        storage.copy_file(p, dest / p.name)


class Pipeline:
    def __init__(self, cfg: Config, workers: int | None = None, base_dir: Path | None = None, until: str | None = None):
        self.cfg = cfg
        self.until = until  # stop after this stage (the job entrypoints run the graph in steps)
        self.output = storage.location(cfg.output)
        self.workers = workers or cfg.runtime.workers
        self.base_dir = base_dir or cfg.base_dir or Path.cwd()  # relative config paths: the config file's folder
        self.results: dict[str, StageResult] = {}
        self.skipped: list[str] = []
        self._planned: dict[str, set[str]] = {}  # stage -> the parts it planned this run
        self.fixed_costs: dict[str, Any] = {"stages": {}}
        self._ray_s = 0.0  # seconds the current stage spent starting Ray

    def run(self) -> dict[str, Any]:
        from pipelines.runner import take_calls

        stages = load_stages()
        names = [s.name for s in stages]
        if self.until is not None and self.until not in names:
            from pipelines.errors import ConfigError

            raise ConfigError(f"--until: unknown stage {self.until!r} (stages: {', '.join(names)})")
        self.fixed_costs["ray_start_s"] = 0.0  # Ray starts with the first stage that has work (_ensure_ray)
        take_calls()
        storage.ensure_dir(self.output)
        atomic_write_json(self.output / "config.json", self.cfg.model_dump(mode="json"))
        t_run = time.perf_counter()
        prev_hash = ""
        inputs: list[Path] = []
        published = False
        for idx, stage in enumerate(stages):
            if not stage.documents and not published:
                self._publish(inputs)
                inputs = kept_parts_of(self.output / "documents")
                published = True
            if not stage.enabled(self.cfg):
                self.skipped.append(stage.name)
                if stage.name == self.until:
                    break
                continue
            config_hash = _chain_hash(prev_hash, self.cfg, stage)
            # A stage that plans its own inputs (read: the listing) adds them to its marker's hash:
            # new or changed input is new work, while parts already read are kept.
            specs = stage.plan_inputs(self.cfg, self.base_dir) if hasattr(stage, "plan_inputs") else None
            marker_hash = config_hash if specs is None else input_hash(config_hash, specs)
            work = self.output / "_work" / f"{idx:02d}-{stage.name}"
            t_stage = time.perf_counter()
            result = self._run_stage(stage, work, inputs, marker_hash, config_hash, specs)
            ray_s, self._ray_s = self._ray_s, 0.0  # Ray's start is not the stage's time
            self.results[stage.name] = result
            # Later stages depend on this one's config and on what it produced (content, not the
            # input files' mtimes: a copy of the data elsewhere gives the same hashes downstream).
            prev_hash = _extend_hash(config_hash, _output_digest(result)) if stage.documents else config_hash
            self._stage_costs(stage.name, time.perf_counter() - t_stage - ray_s, take_calls())
            if stage.documents:
                inputs = kept_parts(work)
                if specs is not None:  # parts of inputs that are gone stay in the folder, unread
                    self._planned[stage.name] = {s["part"] for s in specs}
                    inputs = [p for p in inputs if p.stem in self._planned[stage.name]]
            if stage.name == self.until:
                break
        if not published:
            self._publish(inputs)
        report = self.report(time.perf_counter() - t_run)
        atomic_write_json(self.output / "report.json", report)
        _write_html_report(self.output, report)
        return report

    def _run_stage(self, stage: Stage, work: Path, inputs: list[Path], stage_hash: str, config_hash: str,
                   specs: list[dict[str, Any]] | None = None) -> StageResult:
        marker = work / "_SUCCESS.json"
        if storage.exists(marker):
            done = storage.read_json(marker)
            changed = _changed_outputs(work, done.get("files"), self.output, stage)
            if done.get("hash") == stage_hash and not changed:
                log(f"[dim]{stage.name}: up to date, skipped (delete {marker} to redo)")
                res = done["result"]
                return StageResult(stats=PartStats.from_json(res["stats"]),
                                   parts=[PartStats.from_json(p) for p in res["parts"]], extra=res["extra"])
            if changed:  # a marker never vouches for a truncated or missing output: redo what broke
                log(f"[yellow]{stage.name}: {len(changed)} outputs changed since the stage finished "
                    f"(e.g. {changed[0]}): redoing them")
                storage.remove_tree(marker)
        cfg_file = work / "_CONFIG.json"
        if storage.exists(work) and (not storage.exists(cfg_file) or storage.read_json(cfg_file).get("hash") != config_hash):
            storage.remove_tree(work)  # config changed: this stage's old outputs are invalid
        storage.ensure_dir(work)
        atomic_write_json(cfg_file, {"hash": config_hash, "stage": stage.name})
        self._ensure_ray()
        t0 = time.perf_counter()
        ctx = StageContext(cfg=self.cfg, output=self.output, work=work, inputs=inputs, stage_hash=stage_hash,
                           workers=self.workers, base_dir=self.base_dir, specs=specs)
        result = stage.run(ctx)
        _remove_stale_temporaries(work)
        result.stats.seconds = time.perf_counter() - t0
        result.stats.part = stage.name
        result.stats.check()
        atomic_write_json(marker, {"hash": stage_hash, "files": _outputs(work, self.output, stage), "result": {
            "stats": result.stats.to_json(), "parts": [p.to_json() for p in result.parts], "extra": result.extra}})
        return result

    def _ensure_ray(self) -> None:
        """Start (or join) Ray before the first stage that has work: a rerun whose stages are all
        up to date starts none (it cost such a rerun of `make real-web` 1.0 s)."""
        from pipelines.runner import ensure_ray, ray_running

        if ray_running():
            return
        t = time.perf_counter()
        ensure_ray(self.cfg.runtime)
        self._ray_s = time.perf_counter() - t
        self.fixed_costs["ray_start_s"] = round(self._ray_s, 3)

    def _publish(self, inputs: list[Path]) -> None:
        _publish_folder(inputs, self.output / "documents")
        dropped_root = self.output / "dropped"
        storage.remove_tree(dropped_root)
        for work in storage.list_files(self.output / "_work"):
            name = work.name.split("-", 1)[1]
            if name in self.results:
                dropped = storage.list_files(work / "dropped", "*.parquet")
                if name in self._planned:
                    dropped = [p for p in dropped if p.stem in self._planned[name]]
                if dropped:
                    _publish_folder(dropped, dropped_root / name)

    def _stage_costs(self, name: str, wall: float, calls: list[dict[str, Any]]) -> None:
        """Split a stage's wall time into its parts' own work, the distributed calls' overhead
        (actor start-up, scheduling, transfers) and the driver's own time (planning, merging)."""
        in_calls = sum(c["wall_s"] for c in calls)
        self.fixed_costs["stages"][name] = {
            "wall_s": round(wall, 3), "map_calls": len(calls),
            "parts": sum(c["parts"] for c in calls),
            "work_s": round(sum(c["work_s"] for c in calls), 3),
            "overhead_s": round(sum(c["overhead_s"] for c in calls), 3),
            "first_result_s": round(sum(c["first_result_s"] for c in calls), 3),
            "driver_s": round(max(0.0, wall - in_calls), 3),
        }

    def report(self, seconds: float) -> dict[str, Any]:
        from pipelines.report import build_report

        return build_report(self, seconds)


def _remove_stale_temporaries(work: Path) -> None:
    """Temporary files of attempts that were killed mid-write (a retried task wrote the part again).
    Object stores have none: a failed upload never becomes an object."""
    if storage.is_remote(work):
        return
    for tmp in work.rglob(".*.tmp-*"):
        tmp.unlink(missing_ok=True)


def kept_parts_of(folder: Path) -> list[Path]:
    return storage.list_files(folder, "*.parquet")


def _write_html_report(output: Path, report: dict[str, Any]) -> None:
    from shards.html import write_run_report

    write_run_report(output, report)


def run_pipeline(cfg: Config, workers: int | None = None, until: str | None = None) -> dict[str, Any]:
    """Run the stages of `cfg` (up to `until`); returns the report. A local Ray that this call
    starts is stopped before it returns (a Ray already running, or a cluster, is left as it was):
    left to Ray's exit hook, the stop cost a library caller 0.3-0.9 s more at interpreter exit."""
    from pipelines.runner import ray_running, shutdown_ray

    running = ray_running()
    try:
        return Pipeline(cfg, workers=workers, until=until).run()
    finally:
        if not running:
            shutdown_ray()

"""The one execution path: Ray Data. This is the only pipeline module that imports Ray.

`map_parts` turns a part task (a step applied to one partition) into `map_batches` over an actor
pool: each actor builds the task and calls `setup()` once (models and tokenizers load once per
worker), then runs one part spec per call. Parts write their own outputs atomically, so a retried
task (a killed worker) overwrites, never duplicates.
"""

from __future__ import annotations

import json
import logging
import os
import time
import sys
from typing import Any, Callable

import pyarrow as pa

from pipelines.config import RuntimeConfig
from pipelines.progress import StageProgress, log
from pipelines.step import PartTask

_started_here = False
_watchdog = None


def ensure_ray(runtime: RuntimeConfig | None = None) -> None:
    """Join the cluster named by RAY_ADDRESS (or the job we run in); otherwise start a local Ray.

    A local head costs about 0.5 GB; it binds 127.0.0.1 only, the dashboard stays off unless
    asked for, and the object store is kept small and spills to disk beyond it. Start-up is
    retried, and a watchdog makes sure none of its processes outlives this one
    (pipelines/ray_lifecycle.py).
    """
    global _started_here, _watchdog
    from pipelines import ray_lifecycle

    if "ray" in sys.modules and sys.modules["ray"].is_initialized():
        return
    runtime = runtime or RuntimeConfig()
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    address = os.environ.get("RAY_ADDRESS")
    if address:
        import ray

        ray_lifecycle.connect(
            lambda: ray.init(address=address, logging_level=logging.WARNING, log_to_driver=True),
            address, note=lambda m: log(f"[yellow]{m}"))
        ray_lifecycle.quiet_task_errors()
        return
    ray_lifecycle.bind_loopback()  # before `import ray` reads the setting
    import ray

    def init() -> None:
        ray.init(
            address="local",  # a new local instance, never a `ray start` cluster found on the machine
            include_dashboard=runtime.dashboard,
            dashboard_host="127.0.0.1",
            object_store_memory=runtime.object_store_mb * 1024 * 1024,
            logging_level=logging.WARNING,
            log_to_driver=True,
            configure_logging=True,
        )

    _watchdog = ray_lifecycle.start_local(init, note=lambda m: log(f"[yellow]{m}"))
    _started_here = True
    ray_lifecycle.quiet_task_errors()
    _quiet_ray_data()


def _quiet_ray_data() -> None:
    from ray.data import DataContext

    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False  # grist prints its own per-stage progress
    ctx.print_on_execution_start = False
    ctx.verbose_stats_logs = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def shutdown_ray() -> None:
    """Stop the local Ray only if this process started it (its watchdog then reaps leftovers)."""
    global _started_here, _watchdog
    import ray

    if _started_here and ray.is_initialized():
        ray.shutdown()
    if _watchdog is not None:
        _watchdog.stop()
    _started_here = False
    _watchdog = None


def cluster_cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


class _PartActor:
    """Ray Data calls this with a batch of part specs (batch_size=1)."""

    def __init__(self, factory: Callable[[], PartTask]):
        self.task = factory()
        self.task.setup()

    def __call__(self, batch: pa.Table) -> pa.Table:
        specs = batch.column("spec").to_pylist()
        return pa.table({"stats": [json.dumps(self.task.run(json.loads(s))) for s in specs]})


def map_parts(
    factory: Callable[[], PartTask],
    specs: list[dict[str, Any]],
    *,
    label: str,
    workers: int | None = None,
    cpus: float = 1.0,
    gpus: float = 0.0,
    unit: str = "docs",
) -> list[dict[str, Any]]:
    """Run `factory().run(spec)` for every spec on a Ray actor pool; returns the stats dicts.

    Specs are dispatched largest first (by their optional "size") so one big file does not end
    the stage alone; the order of the results does not matter because parts are independent.
    """
    if not specs:
        return []
    _quiet_ray_data()
    import ray

    n_workers = max(1, min(workers or cluster_cpus(), len(specs)))
    ordered = sorted(specs, key=lambda s: (-int(s.get("size", 0)), s["part"]))
    ds = ray.data.from_items([{"spec": json.dumps(s)} for s in ordered], override_num_blocks=len(ordered))
    ds = ds.map_batches(
        _PartActor,
        fn_constructor_args=(factory,),
        batch_size=1,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=n_workers),
        num_cpus=cpus,
        num_gpus=gpus,
        zero_copy_batch=True,
    )
    progress = StageProgress(label, len(ordered), unit=unit)
    results: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    first = None
    try:
        for row in ds.iter_rows():
            stats = json.loads(row["stats"])
            results.append(stats)
            first = first if first is not None else time.perf_counter() - t0
            progress.advance(stats.get("docs_in", 0), stats.get("bytes_in", 0))
    finally:
        progress.close()
    if len(results) != len(ordered):
        log(f"[red]{label}: {len(ordered) - len(results)} parts did not report")
    work = sum(float(r.get("seconds", 0.0)) for r in results)
    _record_call(label, len(ordered), n_workers, time.perf_counter() - t0, work, first)
    return results


# Where a stage's wall time went beyond the parts' own work (actor start-up, scheduling, object
# transfer): one record per map call, collected by the pipeline into report.json "fixed_costs".
CALLS: list[dict[str, Any]] = []


def _record_call(label: str, parts: int, workers: int, wall: float, work: float, first: float | None) -> None:
    CALLS.append({"label": label, "parts": parts, "workers": workers, "wall_s": round(wall, 3),
                  "work_s": round(work, 3), "first_result_s": round(first or 0.0, 3),
                  # wall time of the pool not spent in a part's own work
                  "overhead_s": round(max(0.0, wall - work / max(1, workers)), 3)})


def take_calls() -> list[dict[str, Any]]:
    """The map calls recorded since the last call (and forget them)."""
    out = list(CALLS)
    CALLS.clear()
    return out


def map_tasks(fn: Callable[[dict[str, Any]], Any], specs: list[dict[str, Any]], *, label: str,
              workers: int | None = None, cpus: float = 1.0) -> list[Any]:
    """Run `fn(spec)` for every spec as a plain Ray task (no actor pool: a round of small tasks
    costs milliseconds instead of the seconds of starting actors), at most `workers` at a time;
    returns the results in spec order. `fn` must be idempotent: a task lost with its worker is
    retried."""
    if not specs:
        return []
    import ray

    t0 = time.perf_counter()
    remote = ray.remote(num_cpus=cpus, max_retries=3)(fn)
    window = max(1, min(workers or cluster_cpus(), len(specs)))
    results: list[Any] = [None] * len(specs)
    pending: dict[Any, int] = {}
    nxt = 0
    while nxt < len(specs) or pending:
        while nxt < len(specs) and len(pending) < window:
            pending[remote.remote(specs[nxt])] = nxt
            nxt += 1
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            results[pending.pop(ref)] = ray.get(ref)
    log(f"[dim]{label}: {len(specs)} tasks")
    _record_call(label, len(specs), window, time.perf_counter() - t0, 0.0, None)
    return results

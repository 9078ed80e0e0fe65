"""The one execution path: plain Ray tasks. This is the only pipeline module that imports Ray.

`map_parts` runs a part task (a step applied to one partition) on the cluster's workers, at most
`workers` parts at a time: each worker process builds the task and calls `setup()` once per map
(models and tokenizers load once per worker), then runs one part spec per call. `map_tasks` runs
a plain function per spec (the dedup shuffle rounds). Parts write their own outputs atomically, so
a retried task (a killed worker) overwrites, never duplicates.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from typing import Any, Callable

from pipelines.config import RuntimeConfig
from pipelines.memory import release_memory
from pipelines.progress import StageProgress, log
from pipelines.step import PartTask

_started_here = False
_watchdog = None

# Arrow's allocator (mimalloc) in the workers gives freed pages back at once instead of after a
# delay, and commits arena memory as it is used. Measured on a 16 MB dedup scan part: peak RSS
# +92 MiB -> +55-60 MiB over the worker's baseline; the 64 MB dedup benchmark's work 3.6-3.8 ->
# 3.7-3.9 CPU-s (within run-to-run noise). jobs/runtime_env.yaml sets the same for cluster jobs.
WORKER_ALLOCATOR_ENV = {"MIMALLOC_PURGE_DELAY": "0", "MIMALLOC_ARENA_EAGER_COMMIT": "0"}


def ensure_ray(runtime: RuntimeConfig | None = None) -> None:
    """Join the cluster named by RAY_ADDRESS (or the job we run in); otherwise start a local Ray.

    A local head is GCS, raylet and Ray's two agents (about 225 MiB RSS); it binds 127.0.0.1
    only, the dashboard, autoscaler monitor and log monitor stay off unless asked for
    (`runtime.dashboard`, `runtime.worker_logs`), and the object store is kept small and spills to
    disk beyond it. Start-up is retried, and a watchdog makes sure none of its processes outlives
    this one (pipelines/ray_lifecycle.py).
    """
    global _started_here, _watchdog
    from pipelines import ray_lifecycle

    if ray_running():
        return
    runtime = runtime or RuntimeConfig()
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    for name, value in WORKER_ALLOCATOR_ENV.items():  # read by each worker process at start
        os.environ.setdefault(name, value)
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
        with ray_lifecycle.lean_head(runtime.dashboard, runtime.worker_logs):
            _init()

    def _init() -> None:
        ray.init(
            address="local",  # a new local instance, never a `ray start` cluster found on the machine
            include_dashboard=runtime.dashboard,
            dashboard_host="127.0.0.1",
            object_store_memory=runtime.object_store_mb * 1024 * 1024,
            logging_level=logging.WARNING,
            log_to_driver=runtime.worker_logs,
            configure_logging=True,
        )

    _watchdog = ray_lifecycle.start_local(init, note=lambda m: log(f"[yellow]{m}"))
    _started_here = True
    ray_lifecycle.quiet_task_errors()


def ray_running() -> bool:
    """Whether this process is connected to a Ray already (without importing Ray)."""
    return "ray" in sys.modules and sys.modules["ray"].is_initialized()


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


_PART_TASKS: dict[str, PartTask] = {}  # per worker process: the part task of the current map, built once


def _run_part(key: str, factory: Callable[[], PartTask], spec: dict[str, Any]) -> dict[str, Any]:
    """One part on a Ray worker. The worker builds the map's part task (and runs its `setup()`:
    models, tokenizers) on its first part of that map and keeps it for the next ones, as an
    actor would; a new map replaces it, so a long-lived worker holds no stale task."""
    task = _PART_TASKS.get(key)
    if task is None:
        _PART_TASKS.clear()
        task = factory()
        task.setup()
        _PART_TASKS[key] = task
    return task.run(spec)


def _in_worker(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """Every task runs through this on its worker: the process set up once, memory handed back
    after. Returns (seconds of the task's own work on the worker, set-up included; its result)."""
    global _worker_ready
    if not _worker_ready:
        arrow_without_pandas()
        _worker_ready = True
    t0 = time.perf_counter()
    try:
        result = fn(*args)
        return time.perf_counter() - t0, result
    finally:
        release_memory()


_worker_ready = False


def arrow_without_pandas() -> None:
    """pyarrow imports pandas the first time it converts a Python list or a numpy array (to check
    whether it is a pandas object): 47 MiB and 0.27 s per worker process, measured, for objects
    grist never makes. On a worker, let that one check find no pandas (pyarrow then remembers it
    has none; nothing grist runs on a worker converts to or from pandas)."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    class NoPandas:
        @staticmethod
        def find_spec(name: str, *args: Any) -> None:
            if name == "pandas":
                raise ModuleNotFoundError("pandas is not imported on grist's workers", name=name)

    sys.meta_path.insert(0, NoPandas)  # type: ignore[arg-type]
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(NoPandas)  # type: ignore[arg-type]




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
    """Run `factory().run(spec)` for every spec as plain Ray tasks, at most `workers` at a time,
    each worker process setting the task up once per map; returns the stats dicts.

    Plain tasks, not a Ray Data actor pool: the pool's actors are new processes (seconds each to
    start and import on a loaded machine) and Ray Data keeps helper actors alive for the whole
    run (measured: a read stage of one 0.13 s part took 3.5 s, and the helpers held ~530 MB RSS).
    Tasks reuse the workers Ray already has. Specs are dispatched largest first (by their
    optional "size") so one big file does not end the stage alone; the order of the results does
    not matter because parts are independent. A part lost with its worker is retried by Ray; it
    rewrites its outputs atomically, so it never duplicates.
    """
    if not specs:
        return []
    import ray

    ordered = sorted(specs, key=lambda s: (-int(s.get("size", 0)), s["part"]))
    n_workers = max(1, min(workers or cluster_cpus(), len(ordered)))
    key = uuid.uuid4().hex
    factory_ref = ray.put(factory)  # shipped once, not pickled into every task
    # the task name is the worker's process title while it runs a part (`ray::MapWorker(read)`)
    remote = ray.remote(_in_worker).options(num_cpus=cpus, num_gpus=gpus, max_retries=3, name=f"MapWorker({label})")
    progress = StageProgress(label, len(ordered), unit=unit)
    results: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    first: list[float] = []

    def done(stats: dict[str, Any]) -> None:
        results.append(stats)
        if not first:
            first.append(time.perf_counter() - t0)
        progress.advance(stats.get("docs_in", 0), stats.get("bytes_in", 0))

    try:
        _, work = _windowed(lambda s: remote.remote(_run_part, key, factory_ref, s), ordered, n_workers, done)
    finally:
        progress.close()
    _record_call(label, len(ordered), n_workers, time.perf_counter() - t0, work, first[0] if first else None)
    return results


def _windowed(submit: Callable[[Any], Any], items: list[Any], window: int,
              done: Callable[[Any], None] | None = None) -> tuple[list[Any], float]:
    """Submit `submit(item)` (a task through `_in_worker`) for every item, at most `window` in
    flight; returns the results in item order (`done(result)` is called as each arrives) and the
    seconds of work the tasks reported."""
    import ray

    results: list[Any] = [None] * len(items)
    pending: dict[Any, int] = {}
    work = 0.0
    nxt = 0
    while nxt < len(items) or pending:
        while nxt < len(items) and len(pending) < window:
            pending[submit(items[nxt])] = nxt
            nxt += 1
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            i = pending.pop(ref)
            seconds, results[i] = ray.get(ref)
            work += seconds
            if done is not None:
                done(results[i])
    return results, work


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
    remote = ray.remote(_in_worker).options(num_cpus=cpus, max_retries=3, name=getattr(fn, "__name__", label))
    window = max(1, min(workers or cluster_cpus(), len(specs)))
    results, work = _windowed(lambda s: remote.remote(fn, s), specs, window)
    log(f"[dim]{label}: {len(specs)} tasks")
    _record_call(label, len(specs), window, time.perf_counter() - t0, work, None)
    return results

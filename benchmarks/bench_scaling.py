"""Driver and worker peak RSS as the input grows (1x, 4x, 16x the bundled sample) and 1 vs 2 workers.

    .venv/bin/python benchmarks/bench_scaling.py [--scales 1,4,16] [--one-worker-scale 4] [--dedup] [--docs N]

The pipeline of configs/demo.yaml (read, filters with the quality classifier trained on the run's
own documents, mixture, tokenizer, shards) on `scale` copies of data/sample under new names, with
`mixture.target_tokens: null` (every kept token once, so every stage's work grows with the
input). Dedup is off unless `--dedup`: the copies are duplicates, which it would remove, leaving
the later stages the 1x corpus (its own scaling: benchmarks/bench_peers_dedup.py). `--docs N`
takes `scale` x N short generated documents instead (filters off): many documents for few bytes,
what the mixture and shards stages' per-document work grows with.

Each run is a child process with its own local Ray (2 CPUs): the driver's peak RSS is polled per
stage (the driver process only: what it holds of the corpus), the workers' as the largest Ray
worker process and all of them together. The driver's figure must not grow with the input; the
workers' is bounded by a part. A stage's peak includes what the stages before it left in the
process (Python keeps freed memory), so each stage's rise over the RSS it started with is printed
beside it: that is what the stage itself holds. A run with 1 worker at `--one-worker-scale` gives 1 vs 2 workers
(seconds and memory), and its outputs are compared byte for byte with the 2-worker run.
The machine is shared: the seconds move from run to run, the memory much less.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MiB = 2**20


DOCS_PER_FILE = 20_000


def docs_corpus(dest: Path, scale: int, docs: int) -> int:
    """`scale` x `docs` short generated documents (4-12 words) in two jsonl sources, files of
    DOCS_PER_FILE: many documents for few bytes, what the shards stage's per-document work scales
    with. Returns the bytes written."""
    import random

    rng = random.Random(0)
    syll = "ka lo mi ne ru ta shi ven dor al ex im on ur ba ce di fo gu he".split()
    vocab = ["".join(rng.choice(syll) for _ in range(rng.randint(1, 3))) for _ in range(2000)]
    total, n = 0, scale * docs
    for source, share in (("notes", 0.7), ("snippets", 0.3)):
        count = int(n * share)
        for f in range(0, count, DOCS_PER_FILE):
            lines = [json.dumps({"id": f"{i}", "text": " ".join(rng.choices(vocab, k=rng.randint(4, 12)))})
                     for i in range(f, min(f + DOCS_PER_FILE, count))]
            path = dest / source / f"{f // DOCS_PER_FILE:05d}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")
            total += path.stat().st_size
    return total


def docs_config(data: Path, out: Path):
    """The pipeline for `docs_corpus`: read, mixture (every token once), tokenizer, shards."""
    from pipelines.config import parse_config

    return parse_config({
        "output": str(out), "seed": 0,
        "sources": [{"name": s, "kind": "jsonl", "paths": [str(data / s / "*.jsonl")], "weight": w}
                    for s, w in (("notes", 0.7), ("snippets", 0.3))],
        "filters": {"enabled": False}, "dedup": {"enabled": False}, "mixture": {"target_tokens": None},
        "tokenizer": {"vocab_size": 512, "sample_chars": 2_000_000},
        "shards": {"tokens_per_shard": 1_000_000, "val_fraction": 0.01, "val_min_documents": 2},
        "runtime": {"part_mb": 1}}, ROOT)


def scaled_corpus(dest: Path, scale: int) -> int:
    """Copy data/sample `scale` times; returns the bytes written."""
    sample = ROOT / "data" / "sample"
    total = 0
    for i in range(scale):
        for kind in ("web", "books", "encyclopedia"):
            for f in sorted((sample / kind).iterdir()):
                if f.is_file():
                    out = dest / kind / f"c{i:03d}-{f.name}"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(f, out)
                    total += f.stat().st_size
        for repo in sorted((sample / "code").iterdir()):
            if repo.is_dir():
                shutil.copytree(repo, dest / "code" / f"{repo.name}-c{i:03d}")
                total += sum(p.stat().st_size for p in repo.rglob("*") if p.is_file())
    return total


class Probe:
    """Polls this process's RSS (per stage: the stage the pipeline is in) and its Ray workers'."""

    def __init__(self, every: float = 0.05):
        import psutil

        self.psutil, self.me, self.every = psutil, psutil.Process(), every
        self.stage = "start"
        self.driver: dict[str, int] = {}
        self.at_start: dict[str, int] = {}  # the driver's RSS when the stage began: peak - this = the stage's own rise
        self.peak_worker = self.peak_workers = 0
        self.worker_by_stage: dict[str, int] = {}  # the largest worker process while the stage ran
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            rss = self.me.memory_info().rss
            self.driver[self.stage] = max(self.driver.get(self.stage, 0), rss)
            if n % 4 == 0:  # the workers less often: listing the tree costs CPU on a busy machine
                total = 0
                for p in self.me.children(recursive=True):
                    try:
                        if p.name().startswith("ray::"):
                            r = p.memory_info().rss
                            total += r
                            self.peak_worker = max(self.peak_worker, r)
                            self.worker_by_stage[self.stage] = max(self.worker_by_stage.get(self.stage, 0), r)
                    except self.psutil.Error:
                        pass
                self.peak_workers = max(self.peak_workers, total)
            n += 1
            time.sleep(self.every)

    def __enter__(self) -> "Probe":
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()


def child(data: Path, out: Path, workers: int, dedup: bool, docs: int = 0) -> None:
    """One pipeline run in this process; prints one JSON line of figures."""
    import logging
    import resource

    import ray

    from pipelines import run as run_mod
    from pipelines.config import load_config

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    if docs:
        cfg = docs_config(data, out)
    else:
        cfg = load_config(ROOT / "configs" / "demo.yaml", {"output": str(out)})
        for src in cfg.sources:  # the copies sit in one folder per kind
            src.paths = [str(data / src.kind / "*")]
        cfg.mixture.target_tokens = None
        cfg.dedup.enabled = dedup
    original = run_mod.Pipeline._run_stage
    with Probe() as probe:
        def traced(self, stage, *a, **k):  # the probe files the driver's RSS under the running stage
            probe.at_start[stage.name] = probe.me.memory_info().rss
            probe.stage = stage.name
            try:
                return original(self, stage, *a, **k)
            finally:
                probe.stage = "between"

        run_mod.Pipeline._run_stage = traced
        t0 = time.perf_counter()
        report = run_mod.run_pipeline(cfg, workers=workers)
        seconds = time.perf_counter() - t0
    ray.shutdown()
    print(json.dumps({
        "seconds": round(seconds, 1), "records": report["accounting"]["records_in"],
        "documents": report["accounting"]["documents"],
        "stage_seconds": {s["name"]: round(s["seconds"], 1) for s in report["stages"]},
        "driver_mib": {k: round(v / MiB) for k, v in probe.driver.items()},
        "driver_rise_mib": {k: round((probe.driver.get(k, v) - v) / MiB) for k, v in probe.at_start.items()},
        "driver_maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "worker_mib": round(probe.peak_worker / MiB), "workers_mib": round(probe.peak_workers / MiB),
        "worker_by_stage_mib": {k: round(v / MiB) for k, v in probe.worker_by_stage.items()}}))


def run_child(data: Path, out: Path, workers: int, dedup: bool, docs: int = 0) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(data), str(out), str(workers)]
    cmd += (["--dedup"] if dedup else []) + (["--docs", str(docs)] if docs else [])
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
    if p.returncode != 0:
        raise RuntimeError(f"scaling child failed ({p.returncode}):\n{p.stderr[-4000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,4,16", help="copies of data/sample, comma-separated")
    ap.add_argument("--one-worker-scale", type=int, default=4, help="also run this scale with 1 worker (0: no)")
    ap.add_argument("--dedup", action="store_true", help="run the dedup stage too (it removes the copies)")
    ap.add_argument("--docs", type=int, default=0, help="instead of data/sample copies: this many short generated "
                    "documents per scale step, through read, mixture, tokenizer and shards (the per-document work)")
    ap.add_argument("--child", nargs=3, metavar=("DATA", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), int(args.child[2]), args.dedup, args.docs)
        return
    from tests.conftest import dir_bytes

    scales = [int(s) for s in args.scales.split(",")]
    runs = [(s, 2) for s in scales] + ([(args.one_worker_scale, 1)] if args.one_worker_scale else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        root = Path(tmp)
        sizes = {}
        for scale, workers in runs:
            data = root / f"data-{scale}x"
            if scale not in sizes:
                sizes[scale] = docs_corpus(data, scale, args.docs) if args.docs else scaled_corpus(data, scale)
            out = root / f"out-{scale}x-w{workers}"
            r = run_child(data, out, workers, args.dedup, args.docs)
            r.update(scale=scale, workers=workers, mb=sizes[scale] / 1e6)
            rows.append(r)
            print(f"{scale:>3}x {workers}w: {r['seconds']:6.1f} s  driver peak {max(r['driver_mib'].values()):5d} MiB  "
                  f"largest worker {r['worker_mib']:5d} MiB  workers together {r['workers_mib']:5d} MiB", flush=True)
        same = None
        if args.one_worker_scale and args.one_worker_scale in scales:
            s = args.one_worker_scale
            same = all(dir_bytes(root / f"out-{s}x-w1" / d) == dir_bytes(root / f"out-{s}x-w2" / d)
                       for d in ("documents", "dropped", "shards"))
    stages = [k for k in rows[0]["driver_mib"] if k not in ("start", "between")]
    what = (f"{args.docs:,} generated documents a step, jsonl" if args.docs else
            f"data/sample copies, compressed; dedup {'on' if args.dedup else 'off'}")
    print(f"\ninput: {', '.join(f'{s}x = {sizes[s] / 1e6:.1f} MB' for s in sizes)} ({what}); mixture.target_tokens null")
    print(f"{'run':<8}{'records':>9}{'docs':>8}{'seconds':>9}{'driver MiB':>11}{'worker MiB':>11}{'all workers':>12}  "
          f"driver peak MiB by stage (+ its rise over the RSS the stage started with)")
    for r in rows:
        per = " ".join(f"{k}={r['driver_mib'].get(k, 0)}(+{r['driver_rise_mib'].get(k, 0)})" for k in stages)
        print(f"{r['scale']:>3}x {r['workers']}w {r['records']:>9,}{r['documents']:>8,}{r['seconds']:>9.1f}"
              f"{max(r['driver_mib'].values()):>11}{r['worker_mib']:>11}{r['workers_mib']:>12}  {per}")
        print(f"{'':<8}largest worker MiB by stage: "
              + " ".join(f"{k}={r['worker_by_stage_mib'].get(k, 0)}" for k in stages))
    two = [r for r in rows if r["workers"] == 2]
    if len(two) > 1:
        lo, hi = two[0], two[-1]
        d_lo, d_hi = max(lo["driver_mib"].values()), max(hi["driver_mib"].values())
        print(f"driver peak {hi['scale'] // lo['scale']}x the input: {d_lo} -> {d_hi} MiB ({d_hi / d_lo:.2f}x); "
              f"largest worker {lo['worker_mib']} -> {hi['worker_mib']} MiB")
    one = [r for r in rows if r["workers"] == 1]
    if one:
        o = one[0]
        t = next((r for r in two if r["scale"] == o["scale"]), None)
        if t:
            print(f"{o['scale']}x: 1 worker {o['seconds']:.1f} s, 2 workers {t['seconds']:.1f} s "
                  f"({o['seconds'] / t['seconds']:.2f}x); all workers {o['workers_mib']} / {t['workers_mib']} MiB; "
                  f"outputs byte-identical: {same}")


if __name__ == "__main__":
    main()

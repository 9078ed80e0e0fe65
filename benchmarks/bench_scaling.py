"""The whole pipeline (configs/demo.yaml: read, filters, dedup, mixture, tokenizer, shards) with 1
and 2 workers on a corpus 20x the bundled sample; prints the speed-up and peak memory per worker.

    .venv/bin/python benchmarks/bench_scaling.py [--scale 20]

The 20x corpus is the sample's files copied `scale` times under new names (so read, filters and
MinHash do 20x the work and dedup finds the copies). Both runs share one local Ray with 2 CPUs;
outputs are also compared byte for byte (the determinism contract).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import PeakRSS  # noqa: E402


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=20)
    args = ap.parse_args()

    import ray

    from pipelines.config import load_config
    from pipelines.run import run_pipeline
    from tests.conftest import dir_bytes

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        nbytes = scaled_corpus(root / "data", args.scale)
        results = {}
        for workers in (1, 2):
            cfg = load_config(ROOT / "configs" / "demo.yaml", {"output": str(root / f"out-w{workers}")})
            for src in cfg.sources:  # the copies sit in one folder per kind
                src.paths = [str(root / "data" / src.kind / "*")]
            cfg.mixture.target_tokens = None  # every kept token once: the work grows with the corpus
            t0 = time.perf_counter()
            with PeakRSS() as mem:
                report = run_pipeline(cfg, workers=workers)
            results[workers] = (time.perf_counter() - t0, mem, report)
        t1, m1, r1 = results[1]
        t2, m2, r2 = results[2]
        same = all(dir_bytes(root / "out-w1" / d) == dir_bytes(root / "out-w2" / d)
                   for d in ("documents", "dropped", "shards"))
        print(f"\ncorpus: {args.scale}x the sample, {nbytes / 1e6:.1f} MB on disk, "
              f"{r1['accounting']['records_in']:,} records -> {r1['accounting']['documents']:,} documents")
        print(f"{'stage':<10} {'1 worker s':>11} {'2 workers s':>12} {'speed-up':>9}")
        for s1, s2 in zip(r1["stages"], r2["stages"]):
            print(f"{s1['name']:<10} {s1['seconds']:>11.1f} {s2['seconds']:>12.1f} {s1['seconds'] / max(s2['seconds'], 1e-9):>8.2f}x")
        print(f"{'total':<10} {t1:>11.1f} {t2:>12.1f} {t1 / t2:>8.2f}x")
        print(f"peak RSS of one worker: {m1.peak_worker / 2**20:.0f} MiB (1 worker), {m2.peak_worker / 2**20:.0f} MiB (2 workers); "
              f"all workers together: {m1.peak_total / 2**20:.0f} / {m2.peak_total / 2**20:.0f} MiB")
        print(f"outputs byte-identical for 1 and 2 workers: {same}")
    ray.shutdown()


if __name__ == "__main__":
    main()

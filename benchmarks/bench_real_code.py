"""The code reader on the real trees of the real-data set (`make real`): per tree the files, kept
documents, drops by reason, vendored files kept, kept files with a licence, and MB/s of input.

    .venv/bin/python benchmarks/bench_real_code.py [--keep-vendored] [--permissive-only]

Prints one row per tree, a total row, then the drop reasons summed over the trees.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.real.realset import code_trees, ensure_built  # noqa: E402
from pipelines.config import ReadConfig, SourceConfig  # noqa: E402
from pipelines.sources.base import Doc  # noqa: E402
from pipelines.sources.code import read_code  # noqa: E402


def scan(path: str, cfg: ReadConfig) -> tuple[Counter, int, int, int, float, float]:
    """(reasons incl. "doc", vendored docs, docs with a licence, input bytes, wall s, CPU s)."""
    src = SourceConfig(name="code", kind="code", paths=["unused"])
    size = sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())
    reasons: Counter = Counter()
    vendored = licensed = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for rec in read_code(path, src, cfg):
        if isinstance(rec, Doc):
            reasons["doc"] += 1
            vendored += rec.meta["vendored"]
            licensed += rec.meta["license"] is not None
        else:
            reasons[rec.reason] += 1
    return reasons, vendored, licensed, size, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep-vendored", action="store_true", help="read.code_keep_vendored: true")
    ap.add_argument("--permissive-only", action="store_true", help="read.code_permissive_only: true")
    args = ap.parse_args()
    ensure_built()
    cfg = ReadConfig(code_keep_vendored=args.keep_vendored, code_permissive_only=args.permissive_only)
    total: Counter = Counter()
    sums = [0, 0, 0, 0.0, 0.0]
    print(f"{'tree':<31} {'files':>6} {'kept':>5} {'vend.kept':>9} {'licensed':>8} {'licence':<24} {'MB':>6} {'MB/s':>7} "
          f"{'MB/CPU-s':>8}")
    for t in code_trees():
        reasons, vendored, licensed, size, secs, cpu = scan(t["path"], cfg)
        total.update(reasons)
        files = sum(reasons.values())
        sums = [sums[0] + files, sums[1] + vendored, sums[2] + licensed, sums[3] + secs, sums[4] + cpu]
        total["_bytes"] += size
        print(f"{t['repo']:<31} {files:>6} {reasons['doc']:>5} {vendored:>9} {licensed:>8} {t['license']:<24} "
              f"{size / 1e6:>6.2f} {size / 1e6 / secs:>7.1f} {size / 1e6 / cpu:>8.1f}")
    size = total.pop("_bytes")
    print(f"{'total':<31} {sums[0]:>6} {total['doc']:>5} {sums[1]:>9} {sums[2]:>8} {'':<24} {size / 1e6:>6.2f} "
          f"{size / 1e6 / sums[3]:>7.1f} {size / 1e6 / sums[4]:>8.1f}")
    print("drops: " + ", ".join(f"{r} {n}" for r, n in total.most_common() if r != "doc"))


if __name__ == "__main__":
    main()

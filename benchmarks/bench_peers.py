"""grist against its peers (datatrove 0.10.1, rensa 0.5.0) on the same data and workers: one table.

    .venv/bin/python benchmarks/bench_peers.py [--only tokenize,dedup,filters]

Runs the `run(args)` of whichever of bench_peers_tokenize.py, bench_peers_dedup.py and
bench_peers_filters.py exist (each with its own defaults, dedup on its 64 MB corpus; see them for
the corpus and the measurement) and prints: what, grist, peer, ratio (> 1 = grist ahead), goal. The machine may be
shared: read the ratios, and rerun before trusting one.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCHES = {"tokenize": "bench_peers_tokenize", "dedup": "bench_peers_dedup", "filters": "bench_peers_filters"}
# Each bench with its own defaults, except dedup's corpus: issue 12's 64 MB (its default is 3.7 MB,
# where Ray's start and stop are most of grist's time).
BENCH_ARGS = {"dedup": ["--families", "5200"]}


def _dedup_rows(rows: list[dict]) -> list[dict]:
    """bench_peers_dedup reports one row per tool: turn them into comparisons."""
    by = {r["tool"]: r for r in rows}
    g, out = by.get("grist"), []
    if g is None:
        return out
    for peer in ("datatrove", "rensa"):
        if peer in by:
            o = by[peer]
            out.append({"what": f"MinHash dedup wall s (vs {peer})", "grist": g["wall_s"], "peer": o["wall_s"],
                        "ratio": o["wall_s"] / max(g["wall_s"], 1e-9), "goal": "≥1.5" if peer == "datatrove" else "-"})
    if "datatrove" in by:
        o = by["datatrove"]
        out.append({"what": "MinHash dedup peak RSS MiB (summed)", "grist": g["peak_rss_mib"], "peer": o["peak_rss_mib"],
                    "ratio": o["peak_rss_mib"] / max(g["peak_rss_mib"], 1e-9), "goal": "grist ≤ peer + 512"})
        out.append({"what": "MinHash dedup peak PSS MiB (summed)", "grist": g["peak_pss_mib"], "peer": o["peak_pss_mib"],
                    "ratio": o["peak_pss_mib"] / max(g["peak_pss_mib"], 1e-9), "goal": "-"})
        for k in ("precision", "recall"):
            out.append({"what": f"MinHash dedup {k}", "grist": g[k], "peer": o[k], "ratio": g[k] / max(o[k], 1e-9),
                        "goal": "≥1.0"})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(BENCHES), help="comma-separated: " + ", ".join(BENCHES))
    only = [b for b in ap.parse_args(argv).only.split(",") if b]
    table: list[dict] = []
    for name in only:
        mod_name = BENCHES[name]
        if not (ROOT / "benchmarks" / f"{mod_name}.py").exists():
            print(f"{name}: benchmarks/{mod_name}.py not there, skipped")
            continue
        mod = importlib.import_module(f"benchmarks.{mod_name}")
        args = mod.parse_args(BENCH_ARGS.get(name, [])) if hasattr(mod, "parse_args") else argparse.Namespace()
        print(f"== {name} ({mod_name}.py)", flush=True)
        rows = mod.run(args)
        table += [r for r in rows if "what" in r] or _dedup_rows(rows)
    print(f"\n{'what':<44} {'grist':>12} {'peer':>12} {'ratio':>7}  goal")
    for r in table:
        print(f"{r['what']:<44} {r['grist']:>12,.4g} {r['peer']:>12,.4g} {r['ratio']:>7.2f}  {r['goal']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Heuristic filters: grist's filter stage vs datatrove 0.10.1's equivalent filters, documents per CPU-second.

    .venv/bin/python benchmarks/bench_peers_filters.py [--mb 64] [--workers 2] [--only grist,datatrove,grist-4rules,datatrove-split]

Same corpus (benchmarks/peer_corpus.py: real text, 16 jsonl.gz files; every side reads all of its
documents, checked), same number of workers, and every side runs as a child process measured by
`bench_peers_dedup.measure` (CPU seconds, user + system, of the whole process tree: polled per
process and as the OS reports reaped children; datatrove's pool workers and Ray's workers are
grandchildren; grist's child is also a subreaper). What each side runs (printed too):

- grist: `grist run` with the filter stage as it runs by default less its two fastText models
  (language id and the quality classifier, which datatrove runs only with downloaded models):
  line cleaning, PII, C4 (lorem ipsum, >= 3 sentences), Gopher quality, Gopher repetition,
  FineWeb, on every document as `domain: web`; dedup, mixture, tokenizer and shards off. Two
  children: `--until read` (jsonl.gz -> Parquet parts), then the filter stage (the read stage is
  up to date; Parquet parts in, Parquet documents / dropped out). Each includes a Ray start (and
  Ray's daemons' CPU while it runs). `grist-4rules`: the same with line cleaning and PII off.
- datatrove (own venv): `JsonlReader` -> `C4QualityFilter` -> `GopherQualityFilter` ->
  `GopherRepetitionFilter` -> `FineWebQualityFilter` -> `JsonlWriter` (uncompressed), all at
  their defaults (C4's line rules on: lines without terminal punctuation, with < 3 words, a word
  > 1000 characters, "javascript" or policy phrases are removed; documents with "{" or < 5
  sentences dropped), `LocalPipelineExecutor(tasks=16, workers=W)`. Its English word tokenizer
  is spaCy's (its default; spaCy 3.8.7 is installed into the peers' venv by this script);
  `datatrove-split` is the same pipeline with a whitespace word tokenizer (cheaper than
  datatrove's default, and not what it runs out of the box: a lower bound of its cost).

Printed: docs per CPU-second of each, and grist / peer for the filter stage alone (grist's second
child; datatrove's whole run, which also parses the jsonl.gz) and for jsonl.gz -> filtered (both
grist children, two Ray starts, against the same datatrove run: the like-for-like figure). Goal
>= 1.2x on both. The rule sets differ where the tools' defaults differ (grist's line cleaner
and PII scrub against datatrove's C4 line rules; datatrove drops code at its first "{"), so each
side runs what it runs by default, and the 4-rules row is grist without its line cleaning.
`run(args) -> list[dict]` returns the rows (benchmarks/bench_peers.py imports it). The machine is
shared: read the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_peers_dedup import measure  # noqa: E402

GOAL = 1.2
PEER_EXTRAS = ["spacy==3.8.7", "orjson==3.11.5"]  # datatrove's English word tokenizer; its JsonlReader

DT_BLOCKS = ("JsonlReader -> C4QualityFilter -> GopherQualityFilter -> GopherRepetitionFilter -> FineWebQualityFilter"
             " -> JsonlWriter, defaults (C4: lines without terminal punctuation / < 3 words / javascript / policy"
             " phrases removed, '{' or < 5 sentences drops a document)")
DATATROVE = r"""
import json, sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

SPLIT = sys.argv[6] == "split"
if SPLIT:  # whitespace words instead of spaCy's tokenizer (applied in every worker: module level)
    from datatrove.utils import word_tokenizers as wt

    class Split(wt.WordTokenizer):
        def word_tokenize(self, text):
            return text.split()

        def sent_tokenize(self, text):
            return [s for s in text.replace("!", ".").replace("?", ".").split(".") if s.strip()]

        def span_tokenize(self, text):
            return [(0, len(text))]

    _split = Split()
    wt.load_word_tokenizer = lambda language=None: _split  # datatrove.utils.text looks it up per call

if __name__ == "__main__":  # the pool's workers import this module
    src, out, logs, tasks, workers = sys.argv[1:6]
    LocalPipelineExecutor(
        pipeline=[JsonlReader(src, glob_pattern="*.jsonl.gz"), C4QualityFilter(), GopherQualityFilter(),
                  GopherRepetitionFilter(), FineWebQualityFilter(), JsonlWriter(out, compression=None)],
        tasks=int(tasks), workers=int(workers), logging_dir=logs).run()
"""


def ensure_peer_extras() -> None:
    from benchmarks.peers import peer_python

    if subprocess.run([peer_python(), "-c", "import spacy, orjson"], capture_output=True).returncode:
        subprocess.run([peer_python(), "-m", "pip", "install", "-q", *PEER_EXTRAS], check=True)


def grist_config(folder: Path, work: Path, four: bool = False) -> Path:
    """The run's config: the filter stage's defaults less fastText, or (`four`) only the rules
    datatrove has too (line cleaning and PII off as well)."""
    filters = {"enabled": True, "language": {"enabled": False}, "quality": {"enabled": False}}
    if four:
        filters.update(lines={"enabled": False}, pii={"enabled": False})
    work.mkdir(parents=True, exist_ok=True)
    cfg = {"output": str(work / "out"), "seed": 0,
           "sources": [{"name": "peer", "kind": "jsonl", "domain": "web", "paths": [str(folder / "*.jsonl.gz")]}],
           "filters": filters,
           "dedup": {"enabled": False}, "mixture": {"enabled": False}, "tokenizer": {"enabled": False},
           "shards": {"enabled": False}}
    path = work / "grist.yaml"
    path.write_text(json.dumps(cfg))  # JSON is YAML
    return path


def _grist_child(config: str, until: str | None, workers: int) -> int:
    """`grist run` as a subreaper: every descendant (Ray's daemons and workers) is reaped here, so
    its CPU time reaches this process's parent."""
    import ctypes
    import signal

    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    from pipelines.cli import main
    from pipelines.runner import shutdown_ray

    try:
        rc = main(["run", config, "--workers", str(workers)] + (["--until", until] if until else []))
    finally:
        shutdown_ray()
    deadline = time.time() + 30
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if time.time() > deadline:  # stragglers: stop our own descendants, then reap
                for p in Path("/proc").iterdir():
                    try:
                        if p.name.isdigit() and int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                            os.kill(int(p.name), signal.SIGKILL)
                    except (OSError, ValueError, IndexError):
                        pass
            time.sleep(0.2)
    return rc


def run_grist(folder: Path, workers: int, work: Path, four: bool = False) -> dict:
    cfg = grist_config(folder, work, four)
    child = [sys.executable, str(Path(__file__).resolve()), "--grist-child", str(cfg), "--workers", str(workers)]
    read = measure(child + ["--until", "read"], cwd=str(ROOT))
    filt = measure(child, cwd=str(ROOT))
    report = json.loads((work / "out" / "report.json").read_text())
    st = {s["name"]: s for s in report["stages"]}
    return {"docs": st["filters"]["docs_in"], "kept": st["filters"]["docs_out"], "read": read, "filters": filt,
            "stage_seconds": {k: round(v["seconds"], 1) for k, v in st.items()}}


def run_datatrove(folder: Path, files: int, workers: int, work: Path, words: str) -> dict:
    script = work / f"dt_filters_{words}.py"
    script.write_text(DATATROVE)
    out = work / f"dt-out-{words}"
    from benchmarks.peers import peer_python

    m = measure([peer_python(), str(script), str(folder), str(out), str(work / f"dt-logs-{words}"), str(files),
                 str(workers), words], cwd=str(work))
    m["kept"] = sum(1 for f in out.glob("*.jsonl") for _ in open(f, encoding="utf-8"))
    m["docs"] = _datatrove_docs_read(work / f"dt-logs-{words}" / "stats.json")
    return m


def _datatrove_docs_read(stats_json: Path) -> int | None:
    """Documents its reader (the first block) yielded, from the run's merged stats.json."""
    try:
        docs = json.loads(stats_json.read_text())[0]["stats"]["documents"]
    except (OSError, ValueError, LookupError, TypeError):
        return None
    return docs["total"] if isinstance(docs, dict) else docs


def grist_rules(four: bool) -> str:
    """The rules the grist child runs, in order, from the run's own config."""
    from filters.stage import build_rules
    from pipelines.config import Config

    with tempfile.TemporaryDirectory() as tmp:
        cfg = json.loads(grist_config(Path(tmp), Path(tmp), four).read_text())
    return " -> ".join(r.name for r in build_rules(Config.model_validate(cfg)))


def run(args: argparse.Namespace | None = None) -> list[dict]:
    """Rows (what, grist, peer, ratio, goal, peer_name, unit, ...) for benchmarks/bench_peers.py."""
    args = args or parse_args([])
    mb, workers = getattr(args, "mb", 64), getattr(args, "workers", 2)
    tools = [t for t in getattr(args, "only", "grist,datatrove,grist-4rules,datatrove-split").split(",") if t]
    from benchmarks.peer_corpus import build

    folder = build(mb)
    files = sorted(folder.glob("*.jsonl.gz"))
    done = json.loads((folder / "_DONE").read_text())
    if any(t.startswith("datatrove") for t in tools):
        ensure_peer_extras()
    res: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-filters-") as tmp:
        tmp = Path(tmp)
        for tool in tools:  # the order given: alternate runs with --only to see the spread
            if tool.startswith("grist"):
                res[tool] = run_grist(folder, workers, tmp / tool, four=tool == "grist-4rules")
            else:
                res[tool] = run_datatrove(folder, len(files), workers, tmp, "split" if tool == "datatrove-split" else "spacy")
    docs = done["docs"]
    print(f"corpus: {len(files)} files, {docs:,} documents, {done['text_bytes'] / 1e6:.1f} MB of text; {workers} workers; "
          "CPU-s = user + system of each child's whole process tree")
    runs = {"grist": f"grist run, filter stage: {grist_rules(False)} (defaults less fastText; Parquet parts in and out; "
                     "a Ray start)",
            "grist-4rules": f"grist run, filter stage: {grist_rules(True)}",
            "datatrove": f"{DT_BLOCKS}; spaCy words (its default)",
            "datatrove-split": "the same; whitespace words (cheaper than its default: a lower bound)"}
    for tool in tools:
        print(f"  {tool + ':':<17}{runs[tool]}")
    rows: list[dict] = []
    common = {"unit": "docs/CPU-s", "corpus_mb": round(done["text_bytes"] / 1e6, 1), "workers": workers, "goal": f"≥{GOAL}"}
    grists = [t for t in tools if t.startswith("grist")]
    peers = [t for t in tools if not t.startswith("grist")]
    rate: dict[str, float] = {}
    for tool in grists:
        g = res[tool]
        assert g["docs"] == docs, (g["docs"], docs)
        rate[tool] = docs / g["filters"]["cpu_s"]
        rate[tool + " e2e"] = docs / (g["read"]["cpu_s"] + g["filters"]["cpu_s"])
        print(f"  {tool + ':':<17}read {g['read']['cpu_s']:6.1f} CPU-s {g['read']['wall_s']:6.1f} s wall; filters "
              f"{g['filters']['cpu_s']:6.1f} CPU-s {g['filters']['wall_s']:6.1f} s wall; kept {g['kept']:,} "
              f"(stage seconds {g['stage_seconds']})")
    for tool in peers:
        d = res[tool]
        assert d["docs"] in (None, docs), (tool, d["docs"], docs)  # None: stats.json unreadable
        rate[tool] = docs / d["cpu_s"]
        print(f"  {tool + ':':<17}{d['cpu_s']:6.1f} CPU-s {d['wall_s']:6.1f} s wall; kept {d['kept']:,}")
    print("  docs/CPU-s: " + ", ".join(f"{k} {v:,.0f}" for k, v in rate.items()))
    for gt in grists:
        what = "defaults less fastText" if gt == "grist" else "the 4 rules datatrove has"
        for pt in peers:
            peer = rate[pt]
            r_stage, r_e2e = rate[gt] / peer, rate[gt + " e2e"] / peer
            print(f"  {gt} / {pt}: {r_stage:.2f}x (filter stage), {r_e2e:.2f}x (jsonl.gz -> filtered, two Ray starts); "
                  f"goal ≥{GOAL}x: {'met' if min(r_stage, r_e2e) >= GOAL else 'NOT met'}")
            name = ("datatrove C4+Gopher+FineWeb filters"
                    + (" (whitespace words)" if pt == "datatrove-split" else " (spaCy words, its default)"))
            rows.append({"what": f"heuristic filters, grist {what} (filter stage)", "grist": rate[gt], "peer": peer,
                         "ratio": r_stage, "peer_name": name, **common})
            rows.append({"what": f"heuristic filters, grist {what} (jsonl.gz -> filtered)", "grist": rate[gt + " e2e"],
                         "peer": peer, "ratio": r_e2e, "peer_name": name, **common})
    return rows


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--mb", type=int, default=64, help="peer corpus size (benchmarks/peer_corpus.py)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="grist,datatrove,grist-4rules,datatrove-split",
                    help="tools to run, in this order (grist, grist-4rules, datatrove, datatrove-split)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(ap)
    ap.add_argument("--grist-child", metavar="CONFIG", help=argparse.SUPPRESS)
    ap.add_argument("--until", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


if __name__ == "__main__":
    a = parse_args()
    if a.grist_child:
        sys.exit(_grist_child(a.grist_child, a.until, a.workers))
    run(a)

"""Tokenize-to-shards: grist vs datatrove's DocumentTokenizer vs raw `encode_batch`, tokens per CPU-second.

    .venv/bin/python benchmarks/bench_peers_tokenize.py [--mb 64] [--files 16] [--vocab 32768] [--workers 2]

Same corpus (benchmarks/peer_corpus.py, real text as jsonl.gz), same tokenizer.json (byte-level BPE
trained once with grist's `tokenizer.train`, cached), same number of workers, and every side runs
as a child process measured the same way (below):

- grist: `grist run` with filters, dedup, mixture and tokenizer training off and `tokenizer.path`
  set, in two children: `--until read` (jsonl.gz -> documents parts), then the shards stage
  (tokenize + global shuffle + shards + manifest). Each child includes a Ray start (fixed cost).
- datatrove 0.10.1 (own venv): `JsonlReader` -> `DocumentTokenizer` (eos token, per-file shuffle),
  `LocalPipelineExecutor(tasks=files, workers=W)`.
- raw: `Tokenizer.encode_batch` over the same texts in one process (RUSAGE_SELF around the
  encoding only): nothing read or written.

Every side runs with RAYON_NUM_THREADS=1 (one Rust thread per worker process, as grist's actors
set it): per-core figures, no idle threads spinning.

CPU seconds are read from /proc (`run_polled`: every descendant's own time, polled), not from
`getrusage(RUSAGE_CHILDREN)`: raylet ignores SIGCHLD, so Ray's workers' CPU never reaches a parent
and rusage shows a fraction of grist's cost (printed beside, for comparison).

Ratios are what to read: the machine is shared, so absolute figures move from run to run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.peers import CACHE  # noqa: E402

GOAL = "≥1.5 (min 1.0)"
# One Rust thread per worker process on every side (grist's actors set the same): per-core figures.
# tokenizers' default (a thread per core in every process) spins idle threads and costs CPU.
ONE_THREAD = {"RAYON_NUM_THREADS": "1"}

# Both measured children make themselves a subreaper and, before they exit, stop and reap every
# descendant still there (datatrove's forkserver, Ray's daemons): the CPU time of processes that
# are never waited for is lost to `getrusage(RUSAGE_CHILDREN)`.
REAP = r"""
import ctypes, os, signal, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap_all(grace=5.0):
    # Wait for every descendant; past `grace` seconds SIGTERM the children left, past twice that
    # SIGKILL them (multiprocessing's resource tracker ignores SIGTERM until its parent exits).
    t0 = time.time()
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            continue
        waited = time.time() - t0
        if waited > grace:
            for p in os.listdir("/proc"):
                try:
                    if p.isdigit() and int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                        os.kill(int(p), signal.SIGKILL if waited > 2 * grace else signal.SIGTERM)
                except (OSError, ValueError, IndexError):
                    pass
        time.sleep(0.1)
"""

DATATROVE = REAP + r"""
import sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.tokens import DocumentTokenizer

if __name__ == "__main__":  # the pool's workers import this module
    src, tok, out, work, logs, tasks, workers = sys.argv[1:8]
    LocalPipelineExecutor(
        pipeline=[JsonlReader(src, glob_pattern="*.jsonl.gz"),
                  DocumentTokenizer(out, tokenizer_name_or_path=tok, eos_token="<|endoftext|>", local_working_dir=work)],
        tasks=int(tasks), workers=int(workers), logging_dir=logs).run()
    reap_all()
"""

RAW = r"""
import gzip, json, os, resource, sys
files, tok_file, threads = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
os.environ["RAYON_NUM_THREADS"] = threads
from tokenizers import Tokenizer
texts = [json.loads(line)["text"] for f in files for line in gzip.open(f, "rt", encoding="utf-8")]
tok = Tokenizer.from_file(tok_file)
r0 = resource.getrusage(resource.RUSAGE_SELF)
n = 0
for i in range(0, len(texts), 1000):
    n += sum(len(e.ids) + 1 for e in tok.encode_batch(texts[i:i + 1000], add_special_tokens=False))
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"tokens": n, "cpu_s": r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime}))
"""


def _proc_cpu() -> dict[tuple[int, int], tuple[int, float, str]]:
    """{(pid, start time): (ppid, CPU seconds of the process itself, name)} of every process."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        try:
            name = open(f"/proc/{p}/comm").read().strip()
        except OSError:
            name = "?"
        out[(int(p), int(f[19]))] = (int(f[1]), (int(f[11]) + int(f[12])) / tick, name)
    return out


def run_polled(cmd: list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
               interval: float = 0.1) -> dict:
    """Run `cmd`; CPU seconds = the sum over it and every descendant of its own CPU time, read
    from /proc every `interval` seconds (a process's last reading counts). `getrusage` misses
    Ray's workers: raylet ignores SIGCHLD, so their CPU time never reaches a parent. Processes
    that live less than `interval` are missed; also returns the rusage figure for comparison."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[tuple[int, int], float] = {}
    names: dict[tuple[int, int], str] = {}
    family: set[tuple[int, int]] = set()  # (pid, start time): a reused pid is another process
    import threading

    out: dict[str, str] = {}
    readers = [threading.Thread(target=lambda k=k, f=f: out.__setitem__(k, f.read()), daemon=True)
               for k, f in (("stdout", p.stdout), ("stderr", p.stderr))]
    for t in readers:
        t.start()
    while True:
        done = p.poll() is not None
        procs = _proc_cpu()
        alive = {pid for pid, start in procs if (pid, start) in family or (pid == p.pid and not family)}
        family |= {k for k in procs if k[0] in alive}
        grew = True
        while grew:  # descendants: once seen, always counted (orphans move to another parent)
            grew = False
            for key, (ppid, *_) in procs.items():
                if ppid in alive and key not in family:
                    family.add(key)
                    alive.add(key[0])
                    grew = True
        for key, (_, cpu, name) in procs.items():
            if key in family:
                seen[key] = max(cpu, seen.get(key, 0.0))
                names[key] = name
        if done:
            break
        time.sleep(interval)
    for t in readers:
        t.join()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({p.returncode}):\n{out.get('stderr', '')[-4000:]}")
    # the child itself is gone at the end: its own time is in rusage (without its children's)
    by_name: dict[str, float] = {}
    for key, cpu in seen.items():
        by_name[names[key]] = by_name.get(names[key], 0.0) + cpu
    return {"wall_s": wall, "cpu_s": sum(seen.values()), "by_process": dict(sorted(
            ((k, round(v, 1)) for k, v in by_name.items() if v >= 0.1), key=lambda kv: -kv[1])), "rusage_cpu_s": (after.ru_utime - before.ru_utime)
            + (after.ru_stime - before.ru_stime), "maxrss_mib": after.ru_maxrss / 1024,
            "stdout": out.get("stdout", ""), "stderr": out.get("stderr", "")}


def corpus_files(mb: int, files: int) -> tuple[Path, list[Path]]:
    """A folder holding the first `files` files of the peer corpus (symlinks), and those files."""
    from benchmarks.peer_corpus import build

    src = build(mb)
    chosen = sorted(src.glob("*.jsonl.gz"))[:files]
    folder = CACHE / "peer-corpus" / f"{mb}mb-first{files}"
    folder.mkdir(parents=True, exist_ok=True)
    for f in chosen:
        link = folder / f.name
        if not link.exists():
            link.symlink_to(f)
    return folder, chosen


def tokenizer_file(mb: int, vocab: int, sample_mb: int = 8) -> Path:
    """One byte-level BPE for every side, trained once on the corpus's first `sample_mb` MB."""
    import gzip

    path = CACHE / "peer-corpus" / f"tokenizer-{mb}mb-{vocab}.json"
    if path.exists():
        return path
    from benchmarks.peer_corpus import build
    from tokenizer.config import TokenizerConfig
    from tokenizer.train import train_bpe

    texts, n = [], 0
    for f in sorted(build(mb).glob("*.jsonl.gz")):
        for line in gzip.open(f, "rt", encoding="utf-8"):
            texts.append(json.loads(line)["text"])
            n += len(texts[-1])
            if n > sample_mb * 1_000_000:
                break
        if n > sample_mb * 1_000_000:
            break
    train_bpe(texts, TokenizerConfig(vocab_size=vocab)).save(str(path))
    return path


def _grist_child(config: str, until: str | None, workers: int) -> int:
    """What `grist run CONFIG` does (pipelines/run_cli.py), without building the whole CLI: its
    parser imports torch for `grist train` (seconds of CPU, nothing to do with this stage)."""
    from pipelines.config import load_config
    from pipelines.run import run_pipeline
    from pipelines.runner import shutdown_ray

    try:
        report = run_pipeline(load_config(config), workers=workers, until=until)
    finally:
        shutdown_ray()
    return 0 if report["accounting"]["balanced"] else 1


def run_grist(files: list[Path], tok: Path, workers: int, work: Path, root: Path = ROOT) -> dict:
    cfg = {"output": str(work / "out"), "seed": 0,
           # the files themselves: the read stage refuses symlinks that leave the source's tree
           "sources": [{"name": "peer", "kind": "jsonl", "paths": [str(f) for f in files]}],
           "filters": {"enabled": False}, "dedup": {"enabled": False}, "mixture": {"enabled": False},
           "tokenizer": {"enabled": False, "path": str(tok)}, "shards": {"enabled": True}}
    cfg_path = work / "grist.yaml"
    cfg_path.write_text(json.dumps(cfg))  # JSON is YAML
    child = [sys.executable, str(root / "benchmarks" / Path(__file__).name), "--grist-child", str(cfg_path),
             "--workers", str(workers)]
    read = run_polled(child + ["--until", "read"], cwd=str(root), env=ONE_THREAD)
    shards = run_polled(child, cwd=str(root), env=ONE_THREAD)
    manifest = json.loads((work / "out" / "shards" / "manifest.json").read_text())
    tokens = sum(t["tokens"] for t in manifest["totals"].values())
    report = json.loads((work / "out" / "report.json").read_text())
    stage_s = {s["name"]: s.get("seconds") for s in report.get("stages", []) if isinstance(s, dict)}
    return {"tokens": tokens, "read": read, "shards": shards, "stage_seconds": stage_s}


def _ensure_orjson() -> None:
    """datatrove's JsonlReader needs orjson, which `datatrove[processing]` does not pull in."""
    import subprocess

    from benchmarks.peers import peer_python

    if subprocess.run([peer_python(), "-c", "import orjson"], capture_output=True).returncode:
        subprocess.run([peer_python(), "-m", "pip", "install", "-q", "orjson==3.11.5"], check=True)


def run_datatrove(folder: Path, tok: Path, files: int, workers: int, work: Path) -> dict:
    _ensure_orjson()
    script = work / "dt_tokenize.py"
    script.write_text(DATATROVE)
    out = work / "dt-out"
    from benchmarks.peers import peer_python

    m = run_polled([peer_python(), str(script), str(folder), str(tok), str(out), str(work / "dt-work"),
                    str(work / "dt-logs"), str(files), str(workers)], env=ONE_THREAD)
    m["tokens"] = sum(int(p.read_text().splitlines()[1]) for p in out.glob("*.metadata"))
    return m


def run_raw(files: list[Path], tok: Path, workers: int) -> dict:
    m = run_polled([sys.executable, "-c", RAW, ",".join(map(str, files)), str(tok), "1"])
    return {**m, **json.loads(m["stdout"])}


def run(args: argparse.Namespace) -> list[dict]:
    """Rows (what, grist, peer, ratio, goal, ...) for benchmarks/bench_peers.py."""
    mb, nfiles, vocab, workers = (getattr(args, k, d) for k, d in
                                  (("mb", 64), ("files", 16), ("vocab", 32768), ("workers", 2)))
    folder, files = corpus_files(mb, nfiles)
    tok = tokenizer_file(mb, vocab)
    with tempfile.TemporaryDirectory(prefix="bench-tok-") as tmp:
        tmp = Path(tmp)
        dt = run_datatrove(folder, tok, len(files), workers, tmp)
        g = run_grist(files, tok, workers, tmp, Path(getattr(args, "grist_root", None) or ROOT))
        raw = run_raw(files, tok, workers)
    text_mb = sum(len(json.loads(line)["text"].encode()) for f in files
                  for line in __import__("gzip").open(f, "rt", encoding="utf-8")) / 1e6
    g_shards = g["tokens"] / g["shards"]["cpu_s"]
    g_e2e = g["tokens"] / (g["read"]["cpu_s"] + g["shards"]["cpu_s"])
    d = dt["tokens"] / dt["cpu_s"]
    r = raw["tokens"] / raw["cpu_s"]
    print(f"corpus: {len(files)} files, {text_mb:.1f} MB of text; tokenizer {tok.name}; {workers} workers")
    print(f"  tokens: grist {g['tokens']:,}  datatrove {dt['tokens']:,}  raw {raw['tokens']:,}")
    print(f"  grist read:    {g['read']['cpu_s']:7.1f} CPU-s {g['read']['wall_s']:6.1f} s wall  {g['read']['maxrss_mib']:6.0f} MiB")
    print(f"  grist shards:  {g['shards']['cpu_s']:7.1f} CPU-s {g['shards']['wall_s']:6.1f} s wall  "
          f"(stage seconds {g['stage_seconds']})")
    print(f"  grist shards CPU by process: {g['shards']['by_process']}")
    print(f"  datatrove:     {dt['cpu_s']:7.1f} CPU-s {dt['wall_s']:6.1f} s wall  {dt['maxrss_mib']:6.0f} MiB")
    print(f"  raw encode:    {raw['cpu_s']:7.1f} CPU-s (encode_batch only, one thread)")
    print(f"  (getrusage would say: grist read {g['read']['rusage_cpu_s']:.1f}, shards {g['shards']['rusage_cpu_s']:.1f}, "
          f"datatrove {dt['rusage_cpu_s']:.1f} CPU-s: it misses Ray's workers)")
    print(f"  tokens/CPU-s: grist shards stage {g_shards:,.0f}, grist jsonl.gz->shards {g_e2e:,.0f}, "
          f"datatrove {d:,.0f}, raw encode_batch {r:,.0f}")
    print(f"  ratios: grist/datatrove {g_shards / d:.2f} (stage), {g_e2e / d:.2f} (jsonl.gz->shards); "
          f"grist/raw {g_shards / r:.2f}; datatrove/raw {d / r:.2f}")
    # the steady state: grist's tokenize actors alone (no Ray start, no driver, no report)
    g_workers = g["tokens"] / max(g["shards"]["by_process"].get("ray::MapWorker(", 0.0), 1e-9)
    print(f"  grist tokenize actors alone: {g_workers:,.0f} tokens/CPU-s ({g_workers / d:.2f}x datatrove; "
          f"the rest, Ray, driver, shard writing and report: {g['shards']['cpu_s'] - g['tokens'] / g_workers:.1f} CPU-s)")
    common = {"unit": "tokens/CPU-s", "corpus_mb": round(text_mb, 1), "workers": workers}
    return [
        {"what": "tokenize-to-shards (shards stage)", "grist": g_shards, "peer": d, "ratio": g_shards / d,
         "goal": GOAL, "peer_name": "datatrove DocumentTokenizer", **common},
        {"what": "jsonl.gz -> shards (read + shards)", "grist": g_e2e, "peer": d, "ratio": g_e2e / d,
         "goal": "≥1.0", "peer_name": "datatrove DocumentTokenizer", **common},
        {"what": "tokenize actors alone (fixed costs excluded)", "grist": g_workers, "peer": d, "ratio": g_workers / d,
         "goal": "-", "peer_name": "datatrove DocumentTokenizer", **common},
        {"what": "tokenize-to-shards vs raw encode_batch", "grist": g_shards, "peer": r, "ratio": g_shards / r,
         "goal": "-", "peer_name": "tokenizers encode_batch", **common},
    ]


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--mb", type=int, default=64, help="peer corpus size (benchmarks/peer_corpus.py)")
    ap.add_argument("--files", type=int, default=16, help="use the corpus's first N files")
    ap.add_argument("--vocab", type=int, default=32768)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--grist-root", help="run grist from this checkout (e.g. an older commit, for before/after)")


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

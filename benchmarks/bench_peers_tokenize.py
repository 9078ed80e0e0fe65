"""Tokenize-to-shards: grist vs datatrove's DocumentTokenizer vs raw `encode_batch`, tokens per CPU-second.

    .venv/bin/python benchmarks/bench_peers_tokenize.py [--mb 64] [--files 16] [--vocab 32768] [--workers 2] [--rounds 2]

Same corpus (benchmarks/peer_corpus.py, real text as jsonl.gz), same tokenizer.json (byte-level BPE
trained once with grist's `tokenizer.train`, cached), same number of workers, and every side runs
as a child process measured the same way (below):

- grist: `grist run` with filters, dedup, mixture and tokenizer training off and `tokenizer.path`
  set, in two children: `--until read` (jsonl.gz -> documents parts), then the shards stage
  (tokenize + global shuffle + shards + manifest). Each child includes a Ray start (fixed cost).
- datatrove 0.10.1 (own venv): `JsonlReader` -> `DocumentTokenizer` (eos token, per-file shuffle),
  `LocalPipelineExecutor(tasks=files, workers=W)`.
- raw: `Tokenizer.encode_batch` and `encode_batch_fast` (no character offsets; what grist calls)
  over the same texts in one process (RUSAGE_SELF around the encoding only): nothing read or written.

`--rounds` (default 2) runs every side that many times, the order reversed every other round.
"Tokenize tasks alone" is the CPU the Ray workers spent while titled `ray::MapWorker(tokenize)`:
the runner's workers run plain tasks of every stage and retitle themselves per task, so each
poll's CPU delta of a process is charged to its title at that poll (`run_polled`'s `by_title`).

Every side runs with RAYON_NUM_THREADS=1 (one Rust thread per worker process, as grist's tokenize
tasks set it): per-core figures, no idle threads spinning.

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
# One Rust thread per worker process on every side (grist's tokenize tasks set the same): per-core figures.
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
out = {}
for key, encode in (("", tok.encode_batch), ("fast_", tok.encode_batch_fast)):  # fast: no character offsets
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    n = 0
    for i in range(0, len(texts), 1000):
        n += sum(len(e.ids) + 1 for e in encode(texts[i:i + 1000], add_special_tokens=False))
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    out.update({key + "tokens": n, key + "cpu_s": r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime})
print(json.dumps(out))
"""


def _proc_cpu() -> dict[tuple[int, int], tuple[int, float]]:
    """{(pid, start time): (ppid, CPU seconds of the process itself, all its threads)} of every process."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[(int(p), int(f[19]))] = (int(f[1]), (int(f[11]) + int(f[12])) / tick)
    return out


def _title(pid: int) -> str:
    """What a process calls itself now: Ray's workers retitle themselves per task
    (`ray::MapWorker(tokenize)` while a part runs, `ray::IDLE` between), which only the command
    line shows (`comm` is cut at 15 characters); other processes by `comm`."""
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0", 1)[0].decode(errors="replace").strip()
        if cmd.startswith("ray::"):  # the title may hold spaces: `ray::MapWorker(write shards)`
            return cmd
        return open(f"/proc/{pid}/comm").read().strip()
    except OSError:
        return "?"


IDLE = "ray::IDLE"


def _attribute(before: str | None, now: str) -> str | None:
    """The title a CPU delta between two polls is charged to: the title seen at both polls, else
    the one that is not `ray::IDLE` (idle costs nothing, so the CPU of a part that began or ended
    between the polls is the part's); None when two different tasks ran between them."""
    if before is None or before == now or before == IDLE:
        return now
    if now == IDLE:
        return before
    return None


def run_polled(cmd: list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
               interval: float = 0.05) -> dict:
    """Run `cmd`; CPU seconds = the sum over it and every descendant of its own CPU time, read
    from /proc every `interval` seconds (a process's last reading counts). `getrusage` misses
    Ray's workers: raylet ignores SIGCHLD, so their CPU time never reaches a parent. Processes
    that live less than `interval` are missed; also returns the rusage figure for comparison.

    `by_title`: each poll's CPU delta per process charged to the process's title then
    (`_attribute`): a Ray worker runs parts of several stages, one title per task, so the CPU of
    the tokenize tasks alone is `by_title["ray::MapWorker(tokenize)"]`. `unattributed_s`: deltas
    spanning two different tasks (split evenly between them; at most a poll's CPU per switch)."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[tuple[int, int], float] = {}
    titles: dict[tuple[int, int], str] = {}
    by_title: dict[str, float] = {}
    unattributed = 0.0
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
            for key, (ppid, _) in procs.items():
                if ppid in alive and key not in family:
                    family.add(key)
                    alive.add(key[0])
                    grew = True
        for key, (_, cpu) in procs.items():
            if key not in family:
                continue
            title = _title(key[0])
            delta = cpu - seen.get(key, 0.0)
            if delta > 0:
                to = _attribute(titles.get(key), title)
                if to is None:
                    unattributed += delta
                    for t in (titles[key], title):
                        by_title[t] = by_title.get(t, 0.0) + delta / 2
                else:
                    by_title[to] = by_title.get(to, 0.0) + delta
                seen[key] = cpu
            titles[key] = title
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
    return {"wall_s": wall, "cpu_s": sum(seen.values()), "by_title": dict(sorted(
            ((k, round(v, 2)) for k, v in by_title.items() if v >= 0.05), key=lambda kv: -kv[1])),
            "unattributed_s": unattributed, "rusage_cpu_s": (after.ru_utime - before.ru_utime)
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
    # the tokenize parts' own wall seconds (their stats markers), beside their CPU from /proc
    part_s = sum(json.loads(f.read_text())["seconds"] for f in (work / "out" / "_work").glob("*shards*/stats/*.json"))
    return {"tokens": tokens, "read": read, "shards": shards, "stage_seconds": stage_s, "tokenize_parts_wall_s": part_s}


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


TOKENIZE = "ray::MapWorker(tokenize)"  # the tokenize tasks' worker title (pipelines/runner.py)


def one_round(order: list[str], folder: Path, files: list[Path], tok: Path, workers: int, root: Path) -> dict:
    """Every side once, in `order`; tokens/CPU-s and what they are made of."""
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-tok-") as tmp:
        tmp = Path(tmp)
        for side in order:
            if side == "datatrove":
                out[side] = run_datatrove(folder, tok, len(files), workers, tmp)
            elif side == "grist":
                out[side] = run_grist(files, tok, workers, tmp, root)
            else:
                out[side] = run_raw(files, tok, workers)
    g, dt, raw = out["grist"], out["datatrove"], out["raw"]
    g_tok_cpu = g["shards"]["by_title"].get(TOKENIZE, 0.0)
    return {"order": order, "sides": out,
            "grist_stage": g["tokens"] / g["shards"]["cpu_s"],
            "grist_e2e": g["tokens"] / (g["read"]["cpu_s"] + g["shards"]["cpu_s"]),
            "grist_tokenize": g["tokens"] / max(g_tok_cpu, 1e-9), "grist_tokenize_cpu_s": g_tok_cpu,
            "datatrove": dt["tokens"] / dt["cpu_s"], "raw": raw["tokens"] / raw["cpu_s"],
            "raw_fast": raw["fast_tokens"] / raw["fast_cpu_s"]}


def _print_round(i: int, r: dict, workers: int) -> None:
    g, dt, raw = (r["sides"][k] for k in ("grist", "datatrove", "raw"))
    print(f"round {i + 1} (order {', '.join(r['order'])}):")
    print(f"  tokens: grist {g['tokens']:,}  datatrove {dt['tokens']:,}  raw {raw['tokens']:,}")
    print(f"  grist read:    {g['read']['cpu_s']:7.1f} CPU-s {g['read']['wall_s']:6.1f} s wall  {g['read']['maxrss_mib']:6.0f} MiB")
    print(f"  grist shards:  {g['shards']['cpu_s']:7.1f} CPU-s {g['shards']['wall_s']:6.1f} s wall  "
          f"(stage seconds {g['stage_seconds']})")
    print(f"    CPU by title: {g['shards']['by_title']} (two tasks between two polls, split: "
          f"{g['shards']['unattributed_s']:.2f} CPU-s)")
    print(f"    tokenize tasks: {r['grist_tokenize_cpu_s']:.1f} CPU-s, parts' own wall {g['tokenize_parts_wall_s']:.1f} s "
          f"(over {workers} workers)")
    print(f"  datatrove:     {dt['cpu_s']:7.1f} CPU-s {dt['wall_s']:6.1f} s wall  {dt['maxrss_mib']:6.0f} MiB")
    print(f"  raw encode:    {raw['cpu_s']:7.1f} CPU-s encode_batch, {raw['fast_cpu_s']:.1f} encode_batch_fast "
          f"(encoding only, one thread)")
    print(f"  (getrusage would say: grist read {g['read']['rusage_cpu_s']:.1f}, shards {g['shards']['rusage_cpu_s']:.1f}, "
          f"datatrove {dt['rusage_cpu_s']:.1f} CPU-s: it misses Ray's workers)")
    d, raw_r = r["datatrove"], r["raw"]
    print(f"  tokens/CPU-s: grist shards stage {r['grist_stage']:,.0f}, grist jsonl.gz->shards {r['grist_e2e']:,.0f}, "
          f"grist tokenize tasks alone {r['grist_tokenize']:,.0f}, datatrove {d:,.0f}, raw encode_batch {raw_r:,.0f}, "
          f"raw encode_batch_fast {r['raw_fast']:,.0f}")
    print(f"  ratios vs datatrove: shards stage {r['grist_stage'] / d:.2f}, jsonl.gz->shards {r['grist_e2e'] / d:.2f}, "
          f"tokenize alone {r['grist_tokenize'] / d:.2f}; vs raw: shards stage {r['grist_stage'] / raw_r:.2f}, "
          f"tokenize alone {r['grist_tokenize'] / raw_r:.2f}, datatrove {d / raw_r:.2f}; "
          f"tokenize alone vs raw encode_batch_fast (what it calls) {r['grist_tokenize'] / r['raw_fast']:.2f}")


def run(args: argparse.Namespace) -> list[dict]:
    """Rows (what, grist, peer, ratio, goal, ...) for benchmarks/bench_peers.py: `--rounds`
    rounds, the order of the sides reversed every other round (the machine's load drifts)."""
    mb, nfiles, vocab, workers, rounds = (getattr(args, k, d) for k, d in
                                          (("mb", 64), ("files", 16), ("vocab", 32768), ("workers", 2), ("rounds", 2)))
    folder, files = corpus_files(mb, nfiles)
    tok = tokenizer_file(mb, vocab)
    root = Path(getattr(args, "grist_root", None) or ROOT)
    text_mb = sum(len(json.loads(line)["text"].encode()) for f in files
                  for line in __import__("gzip").open(f, "rt", encoding="utf-8")) / 1e6
    print(f"corpus: {len(files)} files, {text_mb:.1f} MB of text; tokenizer {tok.name}; {workers} workers", flush=True)
    sides = ["datatrove", "grist", "raw"]
    results = []
    for i in range(rounds):
        results.append(one_round(sides if i % 2 == 0 else sides[::-1], folder, files, tok, workers, root))
        _print_round(i, results[-1], workers)
        sys.stdout.flush()
    common = {"unit": "tokens/CPU-s", "corpus_mb": round(text_mb, 1), "workers": workers, "rounds": rounds}

    def row(what: str, key: str, peer: str, goal: str) -> dict:
        ratios = [r[key] / r[peer] for r in results]
        mean = lambda k: sum(r[k] for r in results) / len(results)  # noqa: E731
        return {"what": what, "grist": mean(key), "peer": mean(peer), "ratio": sum(ratios) / len(ratios),
                "ratio_range": (min(ratios), max(ratios)), "goal": goal,
                "peer_name": {"datatrove": "datatrove DocumentTokenizer", "raw": "tokenizers encode_batch",
                              "raw_fast": "tokenizers encode_batch_fast"}[peer], **common}

    rows = [row("tokenize-to-shards (shards stage)", "grist_stage", "datatrove", GOAL),
            row("jsonl.gz -> shards (read + shards)", "grist_e2e", "datatrove", "≥1.0"),
            row("tokenize tasks alone (fixed costs excluded)", "grist_tokenize", "datatrove", "-"),
            row("tokenize-to-shards vs raw encode_batch", "grist_stage", "raw", "-"),
            row("tokenize tasks alone vs raw encode_batch", "grist_tokenize", "raw", "-"),
            row("tokenize alone vs raw encode_batch_fast", "grist_tokenize", "raw_fast", "-")]
    print(f"over {rounds} rounds (mean ratio, range):")
    for r in rows:
        lo, hi = r["ratio_range"]
        print(f"  {r['what']:<44} {r['ratio']:.2f} ({lo:.2f}-{hi:.2f})")
    return rows


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--mb", type=int, default=64, help="peer corpus size (benchmarks/peer_corpus.py)")
    ap.add_argument("--files", type=int, default=16, help="use the corpus's first N files")
    ap.add_argument("--vocab", type=int, default=32768)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="every side this many times, the order reversed every other round")
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

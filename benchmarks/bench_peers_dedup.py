"""MinHash near-duplicate removal end to end: grist's dedup stage vs datatrove 0.10.1's 4-stage
minhash pipeline and rensa 0.5.0, on one planted corpus with known duplicate ground truth.

    .venv/bin/python benchmarks/bench_peers_dedup.py [--families 300] [--workers 2] [--only grist,datatrove,rensa] [--repeat 2]

--families 5200 is the 64 MB corpus of issue 12's goal (--families 300: 3.7 MB, the fixed costs).
--real 64 runs the same on 64 MB of real text instead (`real_corpus`: the truth is each real
document's repetitions, whose paragraphs are shuffled).

Corpus: `bench_dedup_quality.make_corpus` (families of an original and edited variants with true
Jaccards over ~0.55-1.0, boilerplate-sharing unrelated documents, unrelated documents), written as
4 JSONL files; truth = connected components of the planted pairs whose true Jaccard of 5-word
shingles is >= --threshold. Every tool runs as a measured child process (its own venv for the
peers): wall, CPU seconds of the whole process tree, peak RSS and peak PSS summed over the tree
(Ray's head processes count for grist, the worker pool for datatrove; the memory goal is judged on
summed RSS, see `compare`, and the PSS sum is printed beside it), RSS per process kind at the peak,
and precision/recall of its removals.

Same settings as far as the tools allow: one task per input file (datatrove `tasks=4`, grist's
`runtime.part_mb` just above the largest file, so each file is one read part), 5-word shingles,
128 permutations as 16 bands x 8 rows
(grist's choice at 0.8 with verification; datatrove `num_buckets=16, hashes_per_bucket=8`;
rensa `num_bands=16`), `--workers` processes (datatrove's LocalPipelineExecutor, grist's Ray
workers; rensa is one process). datatrove keeps one document per LSH cluster without a
similarity check; rensa keeps a document unless an already kept LSH candidate has an estimated
Jaccard >= threshold; grist checks the true Jaccard of candidate pairs. datatrove's signature step
gets a whitespace word tokenizer (its English default needs spaCy, which its venv lacks; the
corpus is space-separated words, so both tools cut the same 5-word shingles).

`run(args) -> list[dict]` returns one row per tool and round (bench_peers.py imports it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FILES = 4
BANDS, ROWS = 16, 8

DATATROVE = textwrap.dedent('''
    import sys, json
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupSignature, MinhashDedupBuckets,
                                                  MinhashDedupCluster, MinhashDedupFilter)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig
    from datatrove.utils.word_tokenizers import WordTokenizer

    class Split(WordTokenizer):  # whitespace words: the corpus' own tokens (its default English needs spaCy)
        def word_tokenize(self, text):
            return text.split()

        def sent_tokenize(self, text):
            return [text]

        def span_tokenize(self, text):
            return [(0, len(text))]

    def main():
        data, work, tasks, workers, bands, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        cfg = MinhashConfig(n_grams=5, num_buckets=bands, hashes_per_bucket=rows, hash_config=HashConfig(precision=64))
        reader = lambda: JsonlReader(data, glob_pattern="*.jsonl", text_key="text", id_key="id")
        logs = work + "/logs"
        s1 = LocalPipelineExecutor([reader(), MinhashDedupSignature(output_folder=work + "/sigs", config=cfg, language=Split())],
                                   tasks=tasks, workers=workers, logging_dir=logs + "/1")
        s2 = LocalPipelineExecutor([MinhashDedupBuckets(input_folder=work + "/sigs", output_folder=work + "/buckets", config=cfg)],
                                   tasks=bands, workers=workers, logging_dir=logs + "/2")
        s3 = LocalPipelineExecutor([MinhashDedupCluster(input_folder=work + "/buckets", output_folder=work + "/remove", config=cfg)],
                                   tasks=1, workers=1, logging_dir=logs + "/3")
        s4 = LocalPipelineExecutor([reader(), MinhashDedupFilter(input_folder=work + "/remove",
                                    exclusion_writer=JsonlWriter(work + "/removed", compression=None)),
                                    JsonlWriter(work + "/kept", compression=None)],
                                   tasks=tasks, workers=workers, logging_dir=logs + "/4")
        for s in (s1, s2, s3, s4):
            s.run()
        import glob
        removed = [json.loads(l)["id"] for f in sorted(glob.glob(work + "/removed/*.jsonl")) for l in open(f)]
        print(json.dumps({"removed": removed}))


    if __name__ == "__main__":  # multiprocess' forkserver re-imports this script in every worker
        main()
''')

RENSA = textwrap.dedent('''
    import sys, json, glob
    from rensa import RMinHash, RMinHashLSH

    data, threshold, bands = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    docs = [json.loads(l) for f in sorted(glob.glob(data + "/*.jsonl")) for l in open(f)]
    lsh = RMinHashLSH(threshold=threshold, num_perm=128, num_bands=bands)
    sigs, removed = {}, []
    for i, d in enumerate(docs):
        w = d["text"].lower().split()
        m = RMinHash(num_perm=128, seed=42)
        m.update([" ".join(w[j:j + 5]) for j in range(max(1, len(w) - 4))])
        if any(m.jaccard(sigs[c]) >= threshold for c in lsh.query(m)):
            removed.append(d["id"])
            continue
        sigs[i] = m
        lsh.insert(i, m)
    print(json.dumps({"removed": removed}))
''')

GRIST = textwrap.dedent('''
    import sys, json, time
    sys.path.insert(0, sys.argv[4])
    t0 = time.perf_counter()
    from pipelines.config import parse_config
    from pipelines.run import run_pipeline
    import pyarrow.parquet as pq
    from pathlib import Path

    data, out, workers, threshold, part_mb = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[5]), float(sys.argv[6])
    cfg = parse_config({"output": out, "sources": [{"name": "web", "kind": "jsonl", "paths": [data + "/*.jsonl"]}],
                        "runtime": {"part_mb": part_mb},
                        "filters": {"enabled": False}, "mixture": {"enabled": False}, "tokenizer": {"enabled": False},
                        "shards": {"enabled": False}, "dedup": {"enabled": True, "threshold": threshold}})
    report = run_pipeline(cfg, workers=workers)
    # the read stage may prefix ids with their file (`web/00000/f0001-2`); the corpus' own ids have no "/"
    removed = [i.rsplit("/", 1)[-1] for f in sorted(Path(out, "dropped").rglob("*.parquet"))
               for i in pq.ParquetFile(f).read(columns=["id"])["id"].to_pylist()]  # no pyarrow.dataset import
    stages = {s["name"]: round(s["seconds"], 2) for s in report["stages"]}
    print(json.dumps({"removed": removed, "stages": stages, "extra": next(s for s in report["stages"] if s["name"] == "dedup")["extra"],
                      "fixed_costs": report.get("fixed_costs"),
                      "in_process_s": round(time.perf_counter() - t0, 2)}))
''')


def _label(q) -> str:
    """A short name for a process of the measured tree: Ray's process title (`ray::IDLE`,
    `ray::_round_task`), its binary (gcs_server, raylet) or a Python process' script or module."""
    try:
        cmd = q.cmdline()
        name = q.name()
    except Exception:
        return "?"
    if cmd and cmd[0].startswith("ray::"):
        return cmd[0].split()[0]
    if "python" not in name:
        return name
    for i, a in enumerate(cmd[1:], 1):
        if a == "-m" and i + 1 < len(cmd):
            return cmd[i + 1]
        if a.endswith(".py"):
            return Path(a).parent.name + "/" + Path(a).name if Path(a).name in ("main.py", "agent.py") else Path(a).name
    return name


def _pss(pid: int) -> int:
    """Proportional set size (bytes): each shared page split among the processes mapping it, so
    a sum over processes counts Ray's shared object store and shared libraries once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(cmd: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None, poll: float = 0.05,
            pss_every: float = 0.25) -> dict:
    """Run `cmd` as a child; wall seconds, CPU seconds of its whole process tree (polled per
    process, plus what the OS reports for reaped children), peak RSS summed over the tree and of
    the largest single process (MiB). Ray's workers are grandchildren that are not always reaped,
    hence the polling. Also, the same way for every tool: the peak of the tree's summed PSS
    (polled every `pss_every` s; reading smaps_rollup walks page tables, so less often than RSS)
    and, at the RSS peak, RSS per process kind (`by_process`: label -> [count, MiB])."""
    import psutil

    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, **(env or {})}, cwd=cwd)
    root = psutil.Process(p.pid)
    cpu: dict[int, float] = {}
    labels: dict[tuple[int, float], str] = {}
    peak_sum = peak_one = peak_pss = 0
    at_peak: dict[str, list] = {}
    at_pss_peak: dict[str, list] = {}
    cpu_key: dict[int, float] = {}
    out_chunks: list[str] = []
    import threading

    def drain(stream, sink):
        for line in stream:
            sink.append(line)

    err_chunks: list[str] = []
    threads = [threading.Thread(target=drain, args=(p.stdout, out_chunks), daemon=True),
               threading.Thread(target=drain, args=(p.stderr, err_chunks), daemon=True)]
    for t in threads:
        t.start()
    usage = None
    next_pss = 0.0
    while usage is None:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:  # reaped here, with its own rusage (CPU and max RSS of it and its reaped children)
            p.returncode, usage = os.waitstatus_to_exitcode(status), ru
            break
        total = 0
        kinds: dict[str, list] = {}
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            procs = []
        for q in procs:
            try:
                with q.oneshot():
                    rss = q.memory_info().rss
                    t = q.cpu_times()
                    key = (q.pid, q.create_time())
                cpu[q.pid] = t.user + t.system
                cpu_key[q.pid] = key[1]
            except psutil.Error:
                continue
            total += rss
            peak_one = max(peak_one, rss)
            # every poll: a worker's title changes with its task, and a child forked by Python keeps
            # its parent's command line until it execs (gcs_server, raylet)
            labels[key] = _label(q)
            k = kinds.setdefault(labels[key], [0, 0.0])
            k[0] += 1
            k[1] += rss / 2**20
        if total > peak_sum:
            peak_sum, at_peak = total, kinds
        now = time.perf_counter()
        if now >= next_pss:
            pss_kinds: dict[str, list] = {}
            for q in procs:
                k = pss_kinds.setdefault(labels.get((q.pid, cpu_key.get(q.pid)), "?"), [0, 0.0])
                k[0] += 1
                k[1] += _pss(q.pid) / 2**20
            total_pss = sum(v[1] for v in pss_kinds.values()) * 2**20
            if total_pss > peak_pss:
                peak_pss, at_pss_peak = total_pss, pss_kinds
            next_pss = now + pss_every
        time.sleep(poll)
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    reaped = usage.ru_utime + usage.ru_stime
    polled = sum(cpu.values())
    peak_one = max(peak_one, usage.ru_maxrss * 1024)  # a short run can end between two polls
    peak_sum = max(peak_sum, peak_one)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({p.returncode}):\n{''.join(err_chunks)[-4000:]}")
    return {"wall_s": wall, "cpu_s": max(reaped, polled), "peak_rss_mib": peak_sum / 2**20,
            "peak_proc_mib": peak_one / 2**20, "peak_pss_mib": peak_pss / 2**20,
            "by_process": {k: [v[0], round(v[1])] for k, v in sorted(at_peak.items(), key=lambda kv: -kv[1][1])},
            "pss_by_process": {k: [v[0], round(v[1])] for k, v in sorted(at_pss_peak.items(), key=lambda kv: -kv[1][1])},
            "stdout": "".join(out_chunks), "stderr": "".join(err_chunks)}


def real_corpus(mb: int) -> tuple[list[tuple[str, str]], list[list[int]]]:
    """The peer corpus of real text (benchmarks/peer_corpus.py: books, Wikipedia, Chinese web
    text, code, repeated with each repetition's paragraphs shuffled) as (id, text) documents, and
    the repetitions of each real document as the groups the truth is checked in. Real documents
    that are near-duplicates of one another across groups are not in the truth: a removal of one
    counts against both tools' precision alike."""
    import gzip

    from benchmarks.peer_corpus import build

    src = build(mb)
    distinct = json.loads((src / "_DONE").read_text())["distinct"]
    docs = [(d["id"], d["text"]) for f in sorted(src.glob("*.jsonl.gz"))
            for d in map(json.loads, gzip.open(f, "rt", encoding="utf-8"))]
    groups: dict[int, list[int]] = {}
    for i, (doc_id, _) in enumerate(docs):
        groups.setdefault(int(doc_id[1:]) % distinct, []).append(i)
    return docs, list(groups.values())


def _real_shingles(text: str, n: int = 5) -> set[str]:
    """5-grams of lower-cased whitespace words, or, for a text that is mostly Chinese/Japanese
    (written without spaces: a whole line is one "word"), of its characters, spaces removed."""
    cjk = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff")
    if cjk >= 0.3 * max(1, sum(not ch.isspace() for ch in text)):
        chars = "".join(text.lower().split())
        return {chars[i:i + n] for i in range(max(1, len(chars) - n + 1))}
    w = text.lower().split()
    return {" ".join(w[i:i + n]) for i in range(max(1, len(w) - n + 1))}


def real_truth(docs: list[tuple[str, str]], groups: list[list[int]], threshold: float) -> list[list[int]]:
    """Connected components of the pairs within a group whose true Jaccard (`_real_shingles`) is
    >= threshold (document indices)."""
    parent = list(range(len(docs)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for g in groups:
        sets = {i: _real_shingles(docs[i][1]) for i in g}
        for k, a in enumerate(g):
            for b in g[k + 1:]:
                if len(sets[a] & sets[b]) >= threshold * len(sets[a] | sets[b]):
                    parent[find(a)] = find(b)
    comps: dict[int, list[int]] = {}
    for i in range(len(docs)):
        comps.setdefault(find(i), []).append(i)
    return [c for c in comps.values() if len(c) > 1]


def build_corpus(folder: Path, families: int, seed: int, threshold: float,
                 real_mb: int = 0) -> tuple[list[str], list[list[str]], int]:
    """Writes the planted corpus (or, with `real_mb`, the real one) as FILES JSONL files; returns
    (all ids, true clusters as ids, bytes)."""
    from benchmarks.bench_dedup_quality import make_corpus, truth_clusters

    if real_mb:
        docs, groups = real_corpus(real_mb)
        clusters = real_truth(docs, groups, threshold)
    else:
        docs, groups = make_corpus(families, seed)
        clusters, _ = truth_clusters(docs, groups, threshold)
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)  # family members spread over files, as in a real crawl
    folder.mkdir(parents=True, exist_ok=True)
    nbytes = 0
    for f in range(FILES):
        rows = [json.dumps({"id": docs[i][0], "text": docs[i][1]}) for i in order[f::FILES]]
        nbytes += sum(len(docs[i][1].encode()) for i in order[f::FILES])
        (folder / f"{f:02d}.jsonl").write_text("\n".join(rows) + "\n")
    return [d[0] for d in docs], [[docs[i][0] for i in c] for c in clusters], nbytes


def score(removed: list[str], clusters: list[list[str]]) -> tuple[float, float]:
    """precision = correct removals / removals; recall = correct removals / sum(k - 1)."""
    rem = set(removed)
    correct = sum(min(len(rem & set(c)), len(c) - 1) for c in clusters)
    expected = sum(len(c) - 1 for c in clusters)
    return correct / max(1, len(rem)), correct / max(1, expected)


def run_tool(tool: str, data: Path, work: Path, clusters: list[list[str]], ndocs: int, nbytes: int,
             args: argparse.Namespace) -> dict:
    """One measured run of one tool in the fresh folder `work`; its row."""
    work.mkdir(parents=True)
    env = None
    if tool.startswith("grist"):
        root = tool.split("@", 1)[1] if "@" in tool else str(ROOT)
        script = work / "grist_child.py"
        script.write_text(GRIST)
        # one read part per file, as datatrove's one task per file
        part_mb = max(f.stat().st_size for f in data.glob("*.jsonl")) / 2**20 * 1.01
        cmd = [sys.executable, str(script), str(data), str(work / "out"), str(args.workers), root,
               str(args.threshold), f"{part_mb:.3f}"]
        env = {"PYTHONPATH": root}  # Ray's workers import the same checkout
    else:
        from benchmarks.peers import peer_python

        script = work / f"{tool}_child.py"
        script.write_text(DATATROVE if tool == "datatrove" else RENSA)
        cmd = [peer_python(), str(script), str(data)]
        cmd += ([str(work), str(FILES), str(args.workers), str(BANDS), str(ROWS)] if tool == "datatrove"
                else [str(args.threshold), str(BANDS)])
    m = measure(cmd, cwd=str(work), env=env)
    res = json.loads(m["stdout"].strip().splitlines()[-1])
    p, r = score(res["removed"], clusters)
    row = {"tool": tool, "docs": ndocs, "mb": round(nbytes / 1e6, 2), "workers": args.workers if tool != "rensa" else 1,
           **{k: round(v, 2) for k, v in m.items() if k not in ("stdout", "stderr", "by_process", "pss_by_process")},
           "by_process": m["by_process"], "pss_by_process": m["pss_by_process"], "removed": len(res["removed"]), "precision": round(p, 4), "recall": round(r, 4)}
    if "stages" in res:
        row["stages_s"] = res["stages"]
        row["dedup_stage_s"] = res["stages"].get("dedup")
        row["extra"] = res["extra"]
        row["fixed_costs"] = res.get("fixed_costs")
    print(f"{tool:10s} wall {row['wall_s']:7.1f} s  cpu {row['cpu_s']:7.1f} s  peak RSS {row['peak_rss_mib']:6.0f} MiB "
          f"(largest process {row['peak_proc_mib']:5.0f}), PSS {row['peak_pss_mib']:6.0f} MiB  removed {row['removed']:5d}  "
          f"P {p:.3f}  R {r:.3f}" + (f"  stages {row['stages_s']}" if "stages_s" in row else ""), flush=True)
    print(f"{'':10s} at the RSS peak, MiB by process (count, RSS): "
          + ", ".join(f"{k} {c}x {v}" for k, (c, v) in row["by_process"].items()), flush=True)
    print(f"{'':10s} at the PSS peak, MiB by process (count, PSS): "
          + ", ".join(f"{k} {c}x {v}" for k, (c, v) in row["pss_by_process"].items()), flush=True)
    if "fixed_costs" in row:
        print(f"{'':10s} fixed costs: {json.dumps(row['fixed_costs'])}", flush=True)
    return row


def compare(rows: list[dict]) -> bool | None:
    """Print grist against the others of one round; whether issue 12's dedup goal is met (None:
    no datatrove row). Memory is judged as the issue words it, on peak RSS summed over the process
    tree; the summed PSS is printed beside it (it counts a shared page once: summed RSS counts
    every shared page, libraries and Ray's shared-memory object store, once per process that maps
    it, which weighs against the tool with more processes). Both are measured the same way for
    every tool."""
    by = {r["tool"]: r for r in rows}
    if "grist" not in by:
        return None
    g = by["grist"]
    for peer in ("datatrove", "rensa"):
        if peer in by:
            o = by[peer]
            print(f"grist vs {peer}: wall {o['wall_s'] / g['wall_s']:.2f}x (>1 = grist faster; grist's dedup stage "
                  f"alone {o['wall_s'] / max(g['dedup_stage_s'], 1e-9):.2f}x), "
                  f"cpu {o['cpu_s'] / max(g['cpu_s'], 1e-9):.2f}x, peak RSS {g['peak_rss_mib'] - o['peak_rss_mib']:+.0f} MiB, "
                  f"peak PSS {g['peak_pss_mib'] - o['peak_pss_mib']:+.0f} MiB, "
                  f"P {g['precision'] - o['precision']:+.3f}, R {g['recall'] - o['recall']:+.3f}")
    for name, o in by.items():
        if name.startswith("grist@"):
            print(f"grist now vs {name}: wall {o['wall_s'] / g['wall_s']:.2f}x, cpu {o['cpu_s'] / max(g['cpu_s'], 1e-9):.2f}x, "
                  f"dedup stage {(o.get('dedup_stage_s') or 0) / max(g['dedup_stage_s'], 1e-9):.2f}x, "
                  f"peak RSS {g['peak_rss_mib'] - o['peak_rss_mib']:+.0f} MiB, PSS {g['peak_pss_mib'] - o['peak_pss_mib']:+.0f} MiB")
    if "datatrove" not in by:
        return None
    d = by["datatrove"]
    speed = d["wall_s"] / g["wall_s"] >= 1.5
    quality = g["precision"] >= d["precision"] and g["recall"] >= d["recall"]
    rss_ok = g["peak_rss_mib"] <= d["peak_rss_mib"] + 512
    pss_ok = g["peak_pss_mib"] <= d["peak_pss_mib"] + 512
    print(f"goal (>= 1.5x datatrove's wall, peak RSS summed over the tree <= datatrove's + 512 MiB, P/R >= datatrove's): "
          f"{'met' if speed and quality and rss_ok else 'NOT met'} (wall {'ok' if speed else 'short'}, "
          f"RSS {'ok' if rss_ok else 'over'}: {g['peak_rss_mib']:.0f} vs {d['peak_rss_mib']:.0f} + 512 MiB, "
          f"P/R {'ok' if quality else 'lower'}; summed PSS {'within' if pss_ok else 'over'} datatrove's + 512 MiB: "
          f"{g['peak_pss_mib']:.0f} vs {d['peak_pss_mib']:.0f})")
    return speed and quality and rss_ok


def run(args: argparse.Namespace | None = None) -> list[dict]:
    """One row per tool and round: tool, docs, mb, wall_s, cpu_s, peak_rss_mib, peak_pss_mib,
    peak_proc_mib, by_process, removed, precision, recall (+ grist's stage seconds and fixed
    costs). With --repeat N the tools run N rounds, the order reversed every other round (so
    neither always runs first on a machine whose load drifts); each round is compared on its own."""
    args = args or parse_args([])
    tools = [t for t in args.only.split(",") if t] + [f"grist@{r}" for r in getattr(args, "grist_root", [])]
    rows: list[dict] = []
    verdicts: list[bool | None] = []
    with tempfile.TemporaryDirectory(prefix="bench-peers-dedup-") as tmp:
        tmp_p = Path(tmp)
        data = tmp_p / "data"
        ids, clusters, nbytes = build_corpus(data, args.families, args.seed, args.threshold, getattr(args, "real", 0))
        print(f"corpus: {len(ids)} docs, {nbytes / 1e6:.1f} MB, {len(clusters)} true clusters, "
              f"{sum(len(c) - 1 for c in clusters)} documents to remove; workers {args.workers}", flush=True)
        for k in range(getattr(args, "repeat", 1)):
            order = tools if k % 2 == 0 else tools[::-1]
            if getattr(args, "repeat", 1) > 1:
                print(f"-- round {k + 1}: {', '.join(order)}", flush=True)
            round_rows = [run_tool(t, data, tmp_p / f"{t.split('@')[0]}-{len(rows) + i}", clusters, len(ids), nbytes, args)
                          for i, t in enumerate(order)]
            rows += round_rows
            verdicts.append(compare(round_rows))
    if len(verdicts) > 1 and None not in verdicts:
        print(f"goal met in {sum(verdicts)} of {len(verdicts)} rounds")
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", type=int, default=300, help="planted families (~4.5 docs of ~2.3 KB each, all told)")
    ap.add_argument("--real", type=int, default=0, metavar="MB",
                    help="instead of the planted corpus: MB of the real peer corpus (benchmarks/peer_corpus.py)")
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="rounds of all tools, order reversed every other round")
    ap.add_argument("--only", default="grist,datatrove,rensa", help="comma-separated tools to run, in this order")
    ap.add_argument("--grist-root", action="append", default=[],
                    help="also run grist from this checkout (tool 'grist@NAME'), e.g. an older commit for before/after")
    ap.add_argument("--json", help="also write the rows here")
    return ap.parse_args(argv)


if __name__ == "__main__":
    a = parse_args()
    out = run(a)
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2) + "\n")

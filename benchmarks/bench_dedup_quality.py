"""Precision and recall of the dedup stage against planted near-duplicates of known Jaccard.

    .venv/bin/python benchmarks/bench_dedup_quality.py [--families 400] [--threshold 0.8]

Corpus: unrelated ~2 KB documents; families of an original plus variants made by word edits,
insertions and paragraph moves (true Jaccards spread over ~0.55-1.0, many near 0.8); groups of
unrelated documents sharing a boilerplate header and footer (~25% of their words); two sources.
Truth: connected components of the pairs whose true Jaccard of 5-word shingles (computed here,
independently of grist) is >= threshold; a cluster of k documents should lose k - 1.
precision = correct removals / removals, recall = correct removals / sum(k - 1).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def shingles(text: str, n: int = 5) -> set[str]:
    w = text.lower().split()
    return {" ".join(w[i:i + n]) for i in range(max(1, len(w) - n + 1))}


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y)


def make_corpus(families: int, seed: int):
    rng = random.Random(seed)
    vocab = [f"{rng.choice('bcdfghklmnprst')}{rng.choice('aeiou')}{rng.choice('bcdfgklmnprst')}{i}" for i in range(20000)]

    def para(k: int) -> str:
        return " ".join(rng.choice(vocab) for _ in range(k))

    def doc() -> list[str]:
        return [para(rng.randint(40, 80)) for _ in range(5)]

    def variant(paras: list[str]) -> list[str]:
        paras = list(paras)
        kind = rng.choice(["edit", "insert", "move"])
        words = [p.split() for p in paras]
        if kind == "move":  # a paragraph moves, plus a few edits
            words.insert(rng.randrange(len(words)), words.pop(rng.randrange(len(words))))
        for _ in range(rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12]) * (2 if kind == "insert" else 1)):
            p = words[rng.randrange(len(words))]
            if kind == "insert":
                p.insert(rng.randrange(len(p) + 1), rng.choice(vocab))
            else:
                p[rng.randrange(len(p))] = rng.choice(vocab)
        return [" ".join(p) for p in words]

    docs: list[tuple[str, str]] = []  # (id, text)
    groups: list[list[int]] = []  # index groups whose pairs are checked for the truth
    for f in range(families):
        base = doc()
        members = [base] + [variant(base) for _ in range(rng.randint(1, 3))]
        groups.append(list(range(len(docs), len(docs) + len(members))))
        docs += [(f"f{f:04d}-{j}", "\n\n".join(m)) for j, m in enumerate(members)]
    for g in range(families // 4):  # shared boilerplate between unrelated documents
        head, foot = para(40), para(30)
        idx = []
        for j in range(4):
            idx.append(len(docs))
            docs.append((f"bp{g:04d}-{j}", "\n\n".join([head, *doc()[:3], foot])))
        groups.append(idx)
    for u in range(families):
        docs.append((f"u{u:04d}", "\n\n".join(doc())))
    return docs, groups


def truth_clusters(docs, groups, threshold):
    parent = list(range(len(docs)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    js = []
    for g in groups:
        for a, b in combinations(g, 2):
            j = jaccard(docs[a][1], docs[b][1])
            js.append(j)
            if j >= threshold:
                parent[find(a)] = find(b)
    clusters: dict[int, list[int]] = {}
    for i in range(len(docs)):
        clusters.setdefault(find(i), []).append(i)
    return [c for c in clusters.values() if len(c) > 1], js


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--families", type=int, default=400)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import ray

    from pipelines.config import parse_config
    from pipelines.run import run_pipeline
    from tests.conftest import read_dir

    docs, groups = make_corpus(args.families, args.seed)
    clusters, js = truth_clusters(docs, groups, args.threshold)
    near = sum(1 for j in js if abs(j - args.threshold) < 0.05)
    print(f"corpus: {len(docs)} docs, {len(clusters)} true clusters, planted pair Jaccards "
          f"min {min(js):.2f} max {max(js):.2f}, {near} within 0.05 of the threshold")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        rng = random.Random(1)
        files = {"a": [], "b": []}
        for doc_id, text in docs:
            files[rng.choice("ab")].append({"id": doc_id, "text": text})
        for name, rows in files.items():
            (tmp_p / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        cfg = parse_config({
            "output": str(tmp_p / "out"), "sources": [{"name": n, "kind": "jsonl", "paths": [str(tmp_p / f"{n}.jsonl")]} for n in files],
            "filters": {"enabled": False}, "mixture": {"enabled": False}, "tokenizer": {"enabled": False},
            "shards": {"enabled": False}, "dedup": {"enabled": True, "threshold": args.threshold},
        })
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
        t0 = time.perf_counter()
        report = run_pipeline(cfg, workers=2)
        secs = time.perf_counter() - t0
        dropped = read_dir(tmp_p / "out" / "dropped")
        # the read stage may prefix ids with their file (`b/00000/f0101-1`); the corpus' own ids have no "/"
        removed = {i.rsplit("/", 1)[-1] for i in dropped["id"].to_pylist()} if dropped is not None else set()
    index = {d[0]: i for i, d in enumerate(docs)}
    removed_idx = {index[r] for r in removed}
    correct = sum(min(len(removed_idx & set(c)), len(c) - 1) for c in clusters)
    expected = sum(len(c) - 1 for c in clusters)
    precision = correct / max(1, len(removed_idx))
    recall = correct / max(1, expected)
    stage = next(s for s in report["stages"] if s["name"] == "dedup")
    print(f"dedup: {stage['dropped']}  extra {stage['extra']}  run {secs:.1f} s")
    print(f"threshold {args.threshold}: removed {len(removed_idx)}, should remove {expected}, correct {correct}")
    print(f"precision {precision:.4f}  recall {recall:.4f}  (target >= 0.95 each)")
    return 0 if precision >= 0.95 and recall >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())

"""MinHash signature speed and accuracy against datasketch, Ray scaling of the dedup stage, and
peak worker memory at 10x and 100x a ~2 MB sample corpus.

    .venv/bin/python benchmarks/bench_minhash.py [--docs 1500] [--scales 10,100]

1. Signatures per second on one core, same ~2 KB documents, 128 permutations, 5-word shingles:
   datasketch `MinHash.update` per shingle, datasketch `update_batch`, and grist's path (which
   also normalises the text) with sha1 grams (datasketch-equal), with the default vectorised
   poly64 grams, and batched as the dedup stage runs it (a batch of documents per numpy pass,
   band keys included). Targets: >= 8x the loop, >= 1.5x update_batch.
2. Mean |estimate - true Jaccard| over document pairs of known Jaccard, both implementations.
3. The dedup stage with 1 and 2 workers at --compare-scale, 40x (82 MB) by default (target >= 1.2x; fixed costs of
   ~2 s per actor pool dominate small corpora).
4. Peak RSS of the Ray worker processes during the whole run at 10x and 100x: it should follow
   the part/partition size, not the corpus.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.common import PeakRSS  # noqa: E402
from datasketch import MinHash  # noqa: E402


def make_docs(n: int, rng: random.Random, words: int = 270) -> list[str]:
    vocab = [f"{rng.choice('bcdfghklmnprst')}{rng.choice('aeiou')}{i}" for i in range(30000)]
    return [" ".join(rng.choice(vocab) for _ in range(words)) for _ in range(n)]


def ds_shingles(text: str, n: int = 5) -> list[bytes]:
    w = text.split()
    return [" ".join(w[i:i + n]).encode() for i in range(max(1, len(w) - n + 1))]


def grist_signer(kind: str = "sha1"):
    """grist's signature path: "sha1" grams (equal to datasketch's), or "poly64" (the dedup stage's
    default gram hash, vectorised)."""
    from filters.dedup.config import MinHashConfig
    from filters.dedup.exact import normalize
    from filters.dedup.minhash import MinHasher, Shingler, gram_hashes

    shingler, hasher = Shingler(MinHashConfig()), MinHasher(128, 1)

    def sign(text: str) -> np.ndarray:
        buf, chars = shingler.prepare(normalize(text), "")
        return hasher.signature(gram_hashes(buf, 5, chars, kind))
    return sign


def grist_batch_signer():
    """The dedup stage's path: normalise per document, then gram hashes, signatures and band keys
    for the whole batch (`batch_gram_hashes`, `MinHasher.signatures`, `band_key_matrix`)."""
    from filters.dedup.config import MinHashConfig
    from filters.dedup.exact import normalize
    from filters.dedup.minhash import MinHasher, Shingler, band_key_matrix, batch_gram_hashes

    shingler, hasher = Shingler(MinHashConfig()), MinHasher(128, 1)

    def sign_all(texts: list[str]) -> np.ndarray:
        prepared = [shingler.prepare(normalize(t), "") for t in texts]
        hv, off = batch_gram_hashes([b for b, _ in prepared], [c for _, c in prepared], 5, 5)
        sigs = hasher.signatures(hv, off)
        band_key_matrix(sigs, 16, 8)
        return sigs
    return sign_all


def rate(fn, docs) -> float:
    t = time.perf_counter()
    for d in docs:
        fn(d)
    return len(docs) / (time.perf_counter() - t)


def speed(n_docs: int) -> None:
    docs = make_docs(n_docs, random.Random(0))
    print(f"1. signatures/s on one core, {len(docs)} docs of {np.mean([len(d) for d in docs]) / 1000:.2f} KB, 128 perms, 5-word shingles")

    def loop(text):
        m = MinHash(num_perm=128)
        for s in ds_shingles(text):
            m.update(s)
        return m.hashvalues

    def batch(text):
        m = MinHash(num_perm=128)
        m.update_batch(ds_shingles(text))
        return m.hashvalues

    sign, fast = grist_signer(), grist_signer("poly64")
    assert all(np.array_equal(sign(d), batch(d)) for d in docs[:20]), "signatures differ from datasketch"
    batched = grist_batch_signer()
    assert np.array_equal(batched(docs[:20]), np.array([fast(d) for d in docs[:20]])), "batched signatures differ"
    best = {"loop": 0.0, "update_batch": 0.0, "grist": 0.0, "grist poly64": 0.0, "grist batched": 0.0}
    for _ in range(3):  # best of 3: the machine is shared
        best["loop"] = max(best["loop"], rate(loop, docs[: max(50, n_docs // 10)]))
        best["update_batch"] = max(best["update_batch"], rate(batch, docs))
        best["grist"] = max(best["grist"], rate(sign, docs))
        best["grist poly64"] = max(best["grist poly64"], rate(fast, docs))
        t = time.perf_counter()
        batched(docs)  # with band keys: the stage's whole per-document path
        best["grist batched"] = max(best["grist batched"], len(docs) / (time.perf_counter() - t))
    for k, v in best.items():
        print(f"   {k:13s} {v:9.0f} docs/s")
    print(f"   grist / loop = {best['grist'] / best['loop']:.1f}x (target >= 8), "
          f"grist / update_batch = {best['grist'] / best['update_batch']:.2f}x (target >= 1.5), "
          f"poly64 / update_batch = {best['grist poly64'] / best['update_batch']:.2f}x, "
          f"batched poly64 (the stage's path) / update_batch = {best['grist batched'] / best['update_batch']:.2f}x")


def accuracy(pairs: int = 400) -> None:
    rng = random.Random(1)
    base = make_docs(pairs, rng)
    sign = grist_signer()
    err_g, err_d = [], []
    for text in base:
        w = text.split()
        for _ in range(rng.randint(0, 40)):
            w[rng.randrange(len(w))] = f"e{rng.randrange(10**6)}"
        other = " ".join(w)
        a, b = set(ds_shingles(text)), set(ds_shingles(other))
        true = len(a & b) / len(a | b)
        err_g.append(abs(float(np.mean(sign(text) == sign(other))) - true))
        m1, m2 = MinHash(num_perm=128), MinHash(num_perm=128)
        m1.update_batch(list(a))
        m2.update_batch(list(b))
        err_d.append(abs(m1.jaccard(m2) - true))
    print(f"2. mean |estimate - true Jaccard| over {pairs} pairs: grist {np.mean(err_g):.4f}, datasketch {np.mean(err_d):.4f}")


def write_corpus(root: Path, scale: int, docs_per_file: int = 2500) -> tuple[list[dict], int]:
    """`scale` x 1000 docs of ~2 KB (~2 MB per 1x), 10% of them light edits of others."""
    rng = random.Random(scale)
    docs = make_docs(1000, rng)
    n = 1000 * scale
    files = []
    nbytes = 0
    for f in range((n + docs_per_file - 1) // docs_per_file):
        rows = []
        for i in range(f * docs_per_file, min(n, (f + 1) * docs_per_file)):
            w = docs[i % 1000].split()
            rng.shuffle(w) if (i // 1000) % 10 else w.__setitem__(rng.randrange(len(w)), "edit")
            text = " ".join(w)
            nbytes += len(text)
            rows.append(json.dumps({"id": f"d{i:07d}", "text": text}))
        path = root / f"corpus-{f:04d}.jsonl"
        path.write_text("\n".join(rows) + "\n")
        files.append(str(path))
    return [{"name": "web", "kind": "jsonl", "paths": [str(root / "corpus-*.jsonl")]}], nbytes


def run_stage(root: Path, sources: list[dict], workers: int, name: str) -> tuple[float, PeakRSS]:
    from pipelines.config import parse_config
    from pipelines.run import run_pipeline

    cfg = parse_config({
        "output": str(root / name), "sources": sources, "filters": {"enabled": False},
        "mixture": {"enabled": False}, "tokenizer": {"enabled": False}, "shards": {"enabled": False},
        "dedup": {"enabled": True},
    })
    with PeakRSS() as mem:
        report = run_pipeline(cfg, workers=workers)
    stage = next(s for s in report["stages"] if s["name"] == "dedup")
    return stage["seconds"], mem


def scaling(scales: list[int], compare: int) -> None:
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for scale in scales:
            src_dir = root / f"x{scale}"
            src_dir.mkdir()
            sources, nbytes = write_corpus(src_dir, scale)
            if scale == compare:
                t1, _ = run_stage(root, sources, 1, f"out{scale}-w1")
                t2, mem = run_stage(root, sources, 2, f"out{scale}-w2")
                print(f"3. dedup stage at {scale}x ({nbytes / 1e6:.0f} MB): 1 worker {t1:.1f} s, 2 workers {t2:.1f} s "
                      f"-> {t1 / t2:.2f}x (target >= 1.2)")
            else:
                _, mem = run_stage(root, sources, 2, f"out{scale}-w2")
            print(f"4. {scale:3d}x corpus ({nbytes / 1e6:6.1f} MB): peak RSS of one Ray worker "
                  f"{mem.peak_worker / 2**20:.0f} MiB, of all workers together {mem.peak_total / 2**20:.0f} MiB")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1500)
    ap.add_argument("--scales", default="10,40,100")
    ap.add_argument("--compare-scale", type=int, default=40, help="scale at which 1 and 2 workers are timed")
    args = ap.parse_args()
    speed(args.docs)
    accuracy()
    scaling([int(s) for s in args.scales.split(",") if s], args.compare_scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())

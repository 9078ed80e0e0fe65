"""Tokenize-and-write vs raw `Tokenizer.encode_batch`, tokens/s on one core, same texts, same run.

    .venv/bin/python benchmarks/bench_tokenize.py [--docs 6000] [--vocab 8192]

The stage path is `tokenizer.encode.TokenizePartTask.run` on one documents part (Parquet in,
Arrow IPC token part out, stats marker written): what one actor of the shards stage does. Both
sides run with one Rust thread (RAYON_NUM_THREADS=1, as the stage sets per 1-CPU actor), so the
ratio is per core. Target: stage / raw >= 0.9. The raw side is tokenizers' default (special token
strings in the text are parsed); the stage encodes them as text (`encode_special_tokens`).
"""

from __future__ import annotations

import os

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers starts its thread pool

import argparse  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow.parquet as pq  # noqa: E402

from pipelines.document import documents_table  # noqa: E402
from tests.shards.corpus import chinese, code, english  # noqa: E402
from tokenizer.config import TokenizerConfig  # noqa: E402
from tokenizer.encode import TokenizePartTask  # noqa: E402
from tokenizer.train import train_bpe  # noqa: E402


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=6000)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=512)
    args = ap.parse_args()
    rng = random.Random(0)
    gens = [english, english, english, chinese, code]
    texts = [gens[i % len(gens)](rng) for i in range(args.docs)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tok_file = tmp / "tokenizer.json"
        train_bpe(texts[:3000], TokenizerConfig(vocab_size=args.vocab)).save(str(tok_file))
        part = tmp / "web-00000.parquet"
        pq.write_table(documents_table({"id": f"d{i}", "source": "web", "text": t} for i, t in enumerate(texts)), part)
        task = TokenizePartTask(str(tok_file), tmp / "work", batch_rows=args.batch)
        task.setup()
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(tok_file))  # tokenizers' defaults, as before grist's setting
        batches = [texts[i: i + args.batch] for i in range(0, len(texts), args.batch)]
        n_tokens = sum(len(e.ids) for b in batches for e in tok.encode_batch(b, add_special_tokens=False)) + len(texts)
        spec = {"part": "web-00000", "input": str(part), "source": "web"}
        results = {}
        for _ in range(2):  # interleave, keep the best of each
            for name, fn in {
                "raw encode_batch": lambda: [tok.encode_batch(b, add_special_tokens=False) for b in batches],
                "raw encode_batch_fast": lambda: [tok.encode_batch_fast(b, add_special_tokens=False) for b in batches],
                "stage (read+encode+arrow+write)": lambda: task.run(spec),
            }.items():
                results[name] = min(results.get(name, float("inf")), best(fn, args.repeats))
        mb = sum(len(t.encode()) for t in texts) / 1e6
        print(f"{len(texts):,} documents, {mb:.1f} MB, {n_tokens:,} tokens (eot included), vocab {args.vocab}, 1 thread")
        for name, secs in results.items():
            print(f"  {name:<34} {n_tokens / secs / 1e6:6.2f} M tokens/s  ({secs:.3f} s)")
        stage = results["stage (read+encode+arrow+write)"]
        print(f"ratio stage / raw encode_batch:      {results['raw encode_batch'] / stage:.3f}  (target >= 0.9)")
        print(f"ratio stage / raw encode_batch_fast: {results['raw encode_batch_fast'] / stage:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Throughput of the filter stage against a plain single-process loop over the same filters.

    .venv/bin/python benchmarks/bench_filters.py [--docs 8000]

Corpus: ~2 KB English documents of two registers (reference prose, shop-like web text), as jsonl.
1. Whole stage: the filters stage on Ray with one worker (lines, PII, language id, C4, Gopher,
   FineWeb, fastText quality with the Pareto rule on every document), docs/s from the stage's own
   timing, with the classifier already trained (its training is a separate sub-step); against
   the same rules applied document by document in a plain loop. Goal: stage >= 0.7x loop.
2. fastText scoring alone: the filter step with only the quality classifier, run over Arrow
   batches as the stage runs it (text preparation, one predict per batch, columns), against raw
   `model.predict` on the list of the same texts (newlines replaced, which predict requires).
   Goal: step >= 0.9x raw predict.

    .venv/bin/python benchmarks/bench_filters.py --per-rule [--files 2]

3. Per rule, in process (no Ray, no Parquet): the filter set bench_peers_filters.py runs (the
   defaults less fastText, every document as `domain: web`) on the first files of its peer corpus;
   CPU seconds of each rule alone (on every document) and of the whole set (a document leaves at
   its first failing rule), docs per CPU-second. Where the stage's time goes, without Ray's.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.filters.corpus import reference_doc, web_doc  # noqa: E402


def two_kb(rng: random.Random, make) -> str:
    parts: list[str] = []
    while sum(map(len, parts)) < 2000:
        parts.append(make(rng))
    return "\n\n".join(parts)[:2200]


def write_sources(root: Path, n: int) -> list[dict]:
    rng = random.Random(0)
    sources = []
    for name, make in (("ref", reference_doc), ("web", web_doc)):
        for k in range(2):
            path = root / f"{name}-{k}.jsonl"
            with open(path, "w", encoding="utf-8") as f:
                for i in range(n // 4):
                    f.write(json.dumps({"id": f"{name}-{k}-{i}", "text": two_kb(rng, make)}) + "\n")
        sources.append({"name": name, "kind": "jsonl", "paths": [str(root / f"{name}-*.jsonl")]})
    return sources


def stage_docs_per_s(cfg) -> tuple[float, Path]:
    """Run read + filters once (trains the classifier), then redo only the filter parts and time them."""
    from pipelines.run import run_pipeline

    run_pipeline(cfg, workers=1)
    work = next((Path(cfg.output) / "_work").glob("*-filters"))
    for p in [work / "_SUCCESS.json", *(work / "stats").glob("*.json")]:
        p.unlink()
    report = run_pipeline(cfg, workers=1)
    st = next(s for s in report["stages"] if s["name"] == "filters")
    return st["docs_in"] / st["seconds"], work


def loop_docs_per_s(step, docs: list[tuple[str, str, str]], domains: dict[str, str]) -> float:
    """The same rules, one document at a time, no batching, no Ray, no Parquet."""
    from filters.base import FilterDoc, Transform, EMPTY_AFTER_CLEANING, verdict_of

    step.setup()
    t0 = time.perf_counter()
    for doc_id, source, text in docs:
        d = FilterDoc(doc_id, source, domains[source], text)
        for rule in step.rules:
            if not rule.applies(d):
                continue
            if isinstance(rule, Transform):
                d.text = rule.apply(d)
                if not d.text.strip():
                    d.reason = EMPTY_AFTER_CLEANING
                    break
            else:
                ok, reason = verdict_of(rule.keep(d), rule.name)
                if not ok:
                    d.reason = reason
                    break
    return len(docs) / (time.perf_counter() - t0)


def per_rule(files: int) -> None:
    import gzip

    from benchmarks.peer_corpus import build
    from filters.base import FilterDoc, run_rules
    from filters.stage import build_rules
    from pipelines.config import Config

    paths = sorted(build(64).glob("*.jsonl.gz"))[:files]
    texts = [json.loads(line)["text"] for p in paths for line in gzip.open(p, "rt", encoding="utf-8")]
    cfg = Config.model_validate({"output": "unused", "sources": [{"name": "peer", "kind": "jsonl", "paths": ["unused"]}],
                                 "filters": {"language": {"enabled": False}, "quality": {"enabled": False}}})
    rules = build_rules(cfg)

    def cpu(rs) -> float:
        docs = [FilterDoc(str(i), "peer", "web", t) for i, t in enumerate(texts)]
        t0 = time.process_time()
        for k in range(0, len(docs), 1000):  # the stage's batches
            run_rules(rs, docs[k:k + 1000])
        return time.process_time() - t0

    print(f"peer corpus, {len(paths)} of its files: {len(texts):,} documents, in process")
    for r in rules:
        print(f"  {r.name:<20}{cpu([r]):7.2f} CPU-s alone")
    total = cpu(rules)
    print(f"  {'all, in order':<20}{total:7.2f} CPU-s  {len(texts) / total:,.0f} docs/CPU-s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=8000)
    ap.add_argument("--per-rule", action="store_true", help="per-rule CPU in process on the peer corpus (3.)")
    ap.add_argument("--files", type=int, default=2, help="--per-rule: peer corpus files to use (of 16)")
    args = ap.parse_args()
    if args.per_rule:
        per_rule(args.files)
        return 0

    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    from filters.quality import QualityModel
    from filters.stage import FilterStepFactory, QualitySetup
    from pipelines.config import parse_config

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = write_sources(root, args.docs)
        quality = {"positives": ["ref"], "negatives": ["web"], "apply_to": ["ref", "web"]}
        cfg = parse_config({"output": str(root / "out"), "sources": sources,
                            # every rule group on (line cleaning and C4 default to web kinds only)
                            "filters": {"quality": quality, "lines": {"apply_to_domains": ["other"]},
                                        "c4": {"apply_to_domains": ["other"]}},
                            **{k: {"enabled": False} for k in ("dedup", "mixture", "tokenizer", "shards")}})
        stage_rate, work = stage_docs_per_s(cfg)

        inputs = sorted((root / "out" / "_work").glob("*-read/kept/*.parquet"))
        table = pa.concat_tables([pq.read_table(p) for p in inputs])
        docs = list(zip(table["id"].to_pylist(), table["source"].to_pylist(), table["text"].to_pylist()))
        model = str(root / "out" / "filters" / "quality.bin")
        setup = QualitySetup(model, ["ref", "web"])
        domains = {s.name: s.domain for s in cfg.sources}
        loop_rate = loop_docs_per_s(FilterStepFactory(cfg, setup)(), docs, domains)

        # fastText scoring alone: only the quality rule in the step, batches as the stage makes them.
        only_q = cfg.model_copy(deep=True)
        for key in ("lines", "pii", "language", "c4", "gopher_quality", "gopher_repetition", "fineweb"):
            getattr(only_q.filters, key).enabled = False
        only_q.filters.quality.keep = "none"
        step = FilterStepFactory(only_q, setup)()
        step.setup()
        batches = [table.slice(i, cfg.read.batch_rows) for i in range(0, table.num_rows, cfg.read.batch_rows)]
        step.process(batches[0])  # warm-up
        t0 = time.perf_counter()
        for b in batches:
            step.process(b)
        step_rate = table.num_rows / (time.perf_counter() - t0)
        raw = QualityModel(model).model
        texts = [t.replace("\n", " ") for _, _, t in docs]
        raw.predict(texts[:100], k=2)
        t0 = time.perf_counter()
        raw.predict(texts, k=2)
        raw_rate = len(texts) / (time.perf_counter() - t0)

    ray.shutdown()
    print(f"documents: {len(docs):,} x ~2 KB")
    print(f"{'':34}{'docs/s/core':>12}")
    print(f"{'filter stage (Ray, 1 worker)':34}{stage_rate:12,.0f}")
    print(f"{'plain loop, same filters':34}{loop_rate:12,.0f}")
    print(f"{'ratio stage / loop':34}{stage_rate / loop_rate:12.2f}   (goal >= 0.70)")
    print(f"{'fastText scoring in the step':34}{step_rate:12,.0f}")
    print(f"{'raw model.predict(list)':34}{raw_rate:12,.0f}")
    print(f"{'ratio step / raw predict':34}{step_rate / raw_rate:12.2f}   (goal >= 0.90)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

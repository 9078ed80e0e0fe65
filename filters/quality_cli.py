"""Build and inspect the quality classifier without a run: grist quality train | score.

    grist quality train CONFIG.yaml [--out quality.bin]        as the run trains it, on the read
                                                               stage's outputs of CONFIG's output
    grist quality train [CONFIG.yaml] --positives F... --negatives F... [--out quality.bin]
    grist quality score MODEL.bin FILE... [--top N]            top / bottom documents with scores

Files: .jsonl (a "text" field, optional "id"), .parquet (a "text" column), anything else one
document a file; .gz/.bz2/.xz decompressed. Errors are one line, exit 2.
"""

from __future__ import annotations

import argparse
import heapq
import io
import json
from pathlib import Path
from typing import Any, Iterable

from pipelines import storage
from pipelines.errors import ConfigError

SNIPPET = 160  # characters of a document shown next to its score


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="quality_command", required=True, parser_class=type(p))
    t = sub.add_parser("train", help="train the classifier; print training size, held-out AUC and scores per source")
    t.add_argument("config", nargs="?", help="YAML config: train as its run would (its read stage must have run)")
    t.add_argument("--positives", nargs="+", metavar="FILE", help="reference documents, instead of the config's sources")
    t.add_argument("--negatives", nargs="+", metavar="FILE", help="raw web documents, instead of the config's sources")
    t.add_argument("--output", help="override the config's `output` (as in `grist run --output`)")
    t.add_argument("--out", default="quality.bin", help="where to write the model (default: ./quality.bin)")
    t.add_argument("--top", type=int, default=3, help="top and bottom documents shown per source (default 3)")
    s = sub.add_parser("score", help="score documents with a model; print the distribution and top / bottom documents")
    s.add_argument("model", help="a fastText .bin (grist's quality.bin or `grist quality train --out`)")
    s.add_argument("files", nargs="+", help="jsonl / parquet with a text field, or text files")
    s.add_argument("--top", type=int, default=10, help="top and bottom documents shown (default 10)")
    s.add_argument("--label", default="__label__hq", help="the model's positive label (default __label__hq)")
    s.add_argument("--max-chars", type=int, default=20_000, help="characters of a document scored (as in a run)")


def main(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise ConfigError("--top: must be >= 0")
    return _train(args) if args.quality_command == "train" else _score(args)


# -- reading documents ---------------------------------------------------------------------------


def iter_texts(path: str, skipped: dict[str, int]) -> Iterable[tuple[str, str]]:
    """(id, text) of the documents of one file; lines or rows without a text are counted in
    `skipped[path]` and passed over. Ids are FILE:ID (or FILE:LINE), unique across files."""
    name = Path(path).name
    if not Path(path).exists() and "://" not in path:
        raise ConfigError(f"{path}: file not found")
    if ".parquet" in name:
        pf = storage.parquet_file(path)
        if "text" not in pf.schema_arrow.names:
            raise ConfigError(f"{path}: no 'text' column")
        cols = ["text"] + (["id"] if "id" in pf.schema_arrow.names else [])
        n = 0
        for rb in pf.iter_batches(columns=cols, batch_size=1000):
            ids = rb.column(1).to_pylist() if len(cols) == 2 else [None] * rb.num_rows
            for doc_id, text in zip(ids, rb.column(0).to_pylist()):
                if isinstance(text, str) and text.strip():
                    yield f"{name}:{doc_id if doc_id is not None else n}", text
                else:
                    skipped[path] = skipped.get(path, 0) + 1
                n += 1
        return
    from pipelines.sources.compression import open_decompressed

    with open_decompressed(path) as raw:
        stream = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
        if ".jsonl" in name or name.endswith(".json"):
            for n, line in enumerate(stream):
                try:
                    obj = json.loads(line)
                except ValueError:
                    obj = None
                text = obj.get("text") if isinstance(obj, dict) else None
                if isinstance(text, str) and text.strip():
                    yield f"{name}:{obj.get('id', n)}", text
                elif line.strip():
                    skipped[path] = skipped.get(path, 0) + 1
        else:
            text = stream.read()
            if text.strip():
                yield name, text
            else:
                skipped[path] = skipped.get(path, 0) + 1


def _load_model(path: str, label: str):
    from filters.quality import QualityModel

    if not Path(path).is_file():
        raise ConfigError(f"{path}: model file not found")
    try:
        return QualityModel(path, label)
    except ValueError as err:  # fastText: "has wrong file format!"; ours: label not in the model
        raise ConfigError(f"{path}: not a usable fastText classifier: {err}") from None


# -- score -----------------------------------------------------------------------------------------


def _score(args: argparse.Namespace) -> int:
    from filters.quality import model_text

    model = _load_model(args.model, args.label)
    scores: list[float] = []
    top: list[tuple[float, str, str]] = []  # min-heap of the best
    bottom: list[tuple[float, str, str]] = []  # min-heap on -score of the worst
    skipped: dict[str, int] = {}
    batch: list[tuple[str, str]] = []

    def flush() -> None:
        for (doc_id, text), s in zip(batch, model.scores([model_text(t, args.max_chars) for _, t in batch])):
            scores.append(s)
            item = (s, doc_id, text[:SNIPPET])
            _push(top, item, args.top)
            _push(bottom, (-s, doc_id, text[:SNIPPET]), args.top)
        batch.clear()

    for f in args.files:
        for doc in iter_texts(f, skipped):
            batch.append(doc)
            if len(batch) >= 1000:
                flush()
    flush()
    if not scores:
        raise ConfigError("quality score: no document with a text in " + ", ".join(args.files))
    print(f"{len(scores):,} documents scored by {args.model}: {_distribution(scores)}")
    for path, n in skipped.items():
        print(f"  skipped {n:,} lines or rows without a text in {path}")
    _print_docs(f"top {len(top)}", sorted(top, reverse=True))
    _print_docs(f"bottom {len(bottom)}", sorted(((-s, i, t) for s, i, t in bottom)))
    return 0


def _push(heap: list, item: tuple, n: int) -> None:
    if n <= 0:
        return
    if len(heap) < n:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def _distribution(scores: list[float]) -> str:
    from filters.quality_checks import quantile

    s = sorted(scores)
    qs = "  ".join(f"p{round(100 * q)} {quantile(s, q):.4f}" for q in (0.1, 0.25, 0.5, 0.75, 0.9))
    return f"min {s[0]:.4f}  {qs}  max {s[-1]:.4f}"


def _print_docs(title: str, docs: Iterable[tuple[float, str, str]]) -> None:
    docs = list(docs)
    if not docs:
        return
    print(f"{title}:")
    for s, doc_id, text in docs:
        print(f"  {s:.4f}  {doc_id}  {' '.join(text.split())[:SNIPPET]!r}")


# -- train -----------------------------------------------------------------------------------------


def _train(args: argparse.Namespace) -> int:
    if bool(args.positives) != bool(args.negatives):
        raise ConfigError("quality train: give both --positives and --negatives, or neither (then a CONFIG)")
    if not args.config and not args.positives:
        raise ConfigError("quality train: give a CONFIG.yaml, or --positives and --negatives files")
    cfg = None
    if args.config:
        from pipelines.config import load_config

        cfg = load_config(args.config, {"output": args.output} if args.output else None, check_paths=False)
    return _train_files(args, cfg) if args.positives else _train_config(args, cfg)


def _read_inputs(cfg, config_path: str) -> tuple[list[Path], Any]:
    """The read stage's kept parts of this config's output folder, if they are this config's."""
    from pipelines.parts import kept_parts
    from pipelines.run import Pipeline, _chain_hash, input_hash, load_stages

    pipe = Pipeline(cfg)  # its base_dir is the run's (relative paths in the config resolve as in `grist run`)
    read = load_stages()[0]
    work = pipe.output / "_work" / f"00-{read.name}"
    marker = work / "_SUCCESS.json"
    # the read stage's hash covers its listing (the parts it planned), as in Pipeline.run
    specs = read.plan_inputs(cfg, pipe.base_dir)
    planned = {s["part"] for s in specs}
    if not marker.is_file() or json.loads(marker.read_text()).get("hash") != input_hash(_chain_hash("", cfg, read), specs):
        raise ConfigError(f"quality train: no read stage outputs of this config in {work}; "
                          f"run `grist run {config_path} --until read` first")
    return [p for p in kept_parts(work) if p.stem in planned], pipe.base_dir


def _train_config(args: argparse.Namespace, cfg) -> int:
    from filters.quality_checks import weak_reasons, weighted_cutoff
    from filters.stage import QualitySetup, keep_plan, resolve_sources, score_sources, train_from_parts

    inputs, base_dir = _read_inputs(cfg, args.config)
    qc = cfg.filters.quality
    out = Path(args.out)
    metrics = train_from_parts(cfg, inputs, base_dir, out)
    if metrics is None:
        raise ConfigError("quality train: no positive or no negative documents in the read stage's outputs "
                          "(filters.quality.positives / negatives)")
    apply_to = resolve_sources(cfg, qc.apply_to if qc.apply_to is not None else qc.negatives, "apply_to")
    samples = score_sources(cfg, inputs, QualitySetup(str(out), apply_to), examples=args.top)
    cutoff = weighted_cutoff(samples.values(), qc.top_fraction) if qc.keep == "top_fraction" else None
    _report(out, metrics, samples, keep_plan(qc, samples, qc.keep, cutoff), qc, weak_reasons(metrics, samples, qc))
    return 0


def _train_files(args: argparse.Namespace, cfg) -> int:
    from filters.config import QualityConfig
    from filters.quality import QualityModel, balanced_examples, hashed_sample, model_text, train_classifier
    from filters.quality_checks import SourceScores, keep_examples, weak_reasons, weighted_cutoff
    from filters.stage import keep_plan

    qc = cfg.filters.quality if cfg is not None else QualityConfig()
    seed = cfg.seed if cfg is not None else 0
    skipped: dict[str, int] = {}

    def docs(files: list[str]) -> Iterable[tuple[str, str]]:
        for f in files:
            yield from iter_texts(f, skipped)

    pos = hashed_sample(docs(args.positives), qc.max_per_class, seed, "quality-pos")
    neg = hashed_sample(docs(args.negatives), qc.max_per_class, seed, "quality-neg")
    if not pos or not neg:
        raise ConfigError("quality train: no document with a text in the " + ("--positives" if not pos else "--negatives"))
    out = Path(args.out)
    metrics = train_classifier(balanced_examples(pos, neg, qc.max_per_class), qc, seed, out)
    # Per input file: a hashed sample of up to score_sample documents, scored.
    model, samples = QualityModel(out), {}
    for f in args.positives + args.negatives:
        ss = SourceScores(Path(f).name)
        picked = hashed_sample(iter_texts(f, {}), qc.score_sample, seed, "quality-sample")
        ss.rows = ss.sampled = len(picked)
        ss.scores = model.scores([model_text(t, qc.max_chars) for _, t in picked])
        for (doc_id, text), s in zip(picked, ss.scores):
            keep_examples(ss, (s, doc_id, text[:SNIPPET]), args.top)
        samples[f"{'positive' if f in args.positives else 'negative'} {Path(f).name}"] = ss
    negatives = {k: v for k, v in samples.items() if k.startswith("negative")}
    cutoff = weighted_cutoff(negatives.values(), qc.top_fraction) if qc.keep == "top_fraction" else None
    for path, n in skipped.items():
        print(f"skipped {n:,} lines or rows without a text in {path}")
    _report(out, metrics, samples, keep_plan(qc, samples, qc.keep, cutoff), qc, weak_reasons(metrics, negatives, qc))
    return 0


def _report(out: Path, metrics: dict, samples: dict, plan: dict, qc, weak: list[str]) -> None:
    from filters.quality_checks import source_line, training_line

    print(f"trained {out}: {training_line(metrics)}")
    for name, row in plan.items():
        print(source_line(name, row, qc.keep, row.get("expected_keep")))
        ex = samples[name].examples
        k = len(ex) // 2
        _print_docs("  top", [(s, i, t) for s, i, t in ex[:k]])
        _print_docs("  bottom", [(s, i, t) for s, i, t in ex[k:]])
    if weak:
        print(f"weak: {'; '.join(weak)}. A run with filters.quality.on_weak: stop (the default) would stop.")
    else:
        print(f"checks passed (min_docs_per_class {qc.min_docs_per_class:,}, min_auc {qc.min_auc:g}, "
              f"min_logit_iqr {qc.min_logit_iqr:g})")

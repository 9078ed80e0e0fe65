"""The learned quality classifier (GPT-3 appendix A; DCLM): fastText trained on reference text
(positives) against raw web text (negatives), applied as a `quality_score` column.

Everything random is a hash of (seed, document id): the training sample, the held-out split and
the Pareto keep decision, so results never depend on file order or on the number of workers.
"""

from __future__ import annotations

import heapq
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import pyarrow as pa
import xxhash

from filters.base import Filter, FilterDoc, Verdict
from filters.config import QualityConfig
from filters.text import CJK_RANGES

POSITIVE, NEGATIVE = "__label__hq", "__label__lq"
_CJK_SPLIT = re.compile(f"([{CJK_RANGES}])")


def hash_unit(seed: int, doc_id: str, salt: str = "") -> float:
    """A uniform number in [0, 1) from (seed, salt, id): the pipeline's only source of randomness."""
    return (xxhash.xxh64_intdigest(f"{seed}\x00{salt}\x00{doc_id}".encode()) >> 11) / float(1 << 53)


def pareto_keep(score: float, u: float, alpha: float) -> bool:
    """GPT-3's rule `np.random.pareto(alpha) > 1 - score`, with the Lomax draw by inverse CDF from u."""
    return (1.0 - u) ** (-1.0 / alpha) - 1.0 > 1.0 - score


def model_text(text: str, max_chars: int) -> str:
    """What the classifier sees: one line, lower case, CJK characters spaced out (fastText splits
    on whitespace only, so an unspaced Chinese paragraph would be a single token)."""
    t = text[:max_chars].lower().replace("\n", " ").replace("\r", " ")
    if not t.isascii():
        t = _CJK_SPLIT.sub(r" \1 ", t)
    return t


class QualityModel:
    """A loaded fastText classifier; `scores` is P(positive) for a list of texts, one predict call."""

    def __init__(self, path: str | Path, positive_label: str = POSITIVE):
        import fasttext

        from pipelines import storage

        with storage.local_copy(path) as local:  # fastText reads local files (a run's output may be s3://)
            self.model = fasttext.load_model(str(local))
        self.positive = positive_label if positive_label.startswith("__label__") else f"__label__{positive_label}"
        labels = self.model.get_labels()
        if self.positive not in labels:
            raise ValueError(f"{path}: label {self.positive!r} not in the model's labels {labels}")
        self.k = len(labels)

    def scores(self, texts: Sequence[str]) -> list[float]:
        labels, probs = self.model.predict(list(texts), k=self.k)
        pos = self.positive
        out = []
        for labs, ps in zip(labels, probs):
            # fastText's probabilities can exceed 1 by ~1e-5 (its softmax adds a smoothing term).
            out.append(min(float(ps[labs.index(pos)]), 1.0) if pos in labs else 0.0)
        return out


class QualityFilter(Filter):
    """Scores the documents of `sources` (`doc.quality_score`) and keeps them by the configured
    rule: `quality_pareto`, `quality_threshold` or `quality_top_fraction` name the drops."""

    name = "quality"
    Config = QualityConfig

    def __init__(self, cfg: QualityConfig | None = None, *, model_path: str | Path, sources: Iterable[str],
                 seed: int = 0, cutoff: float | None = None, positive_label: str = POSITIVE, **overrides):
        super().__init__(cfg, **overrides)
        self.model_path = str(model_path)
        self.sources = frozenset(sources)
        self.seed = seed
        self.cutoff = cutoff  # the score threshold for keep=top_fraction (estimated on the driver)
        self.positive_label = positive_label
        self.model: QualityModel | None = None

    def applies(self, doc: FilterDoc) -> bool:
        return doc.source in self.sources

    def setup(self) -> None:
        if self.model is None:
            self.model = QualityModel(self.model_path, self.positive_label)

    def prepare(self, docs: Sequence[FilterDoc]) -> None:
        self.setup()
        mc = self.cfg.max_chars
        for d, s in zip(docs, self.model.scores([model_text(d.text, mc) for d in docs])):
            d.quality_score = s

    def keep(self, doc: FilterDoc) -> Verdict:
        if doc.quality_score is None:
            self.prepare([doc])
        score, mode = doc.quality_score, self.cfg.keep
        if mode == "pareto":
            return pareto_keep(score, hash_unit(self.seed, doc.id, "pareto"), self.cfg.pareto_alpha) or (False, "quality_pareto")
        if mode == "threshold":
            return score >= self.cfg.threshold or (False, "quality_threshold")
        if mode == "top_fraction":
            if self.cutoff is None:
                raise ValueError("quality: keep=top_fraction needs the estimated cutoff")
            return score >= self.cutoff or (False, "quality_top_fraction")
        return True

    def __getstate__(self):
        return {**self.__dict__, "model": None}  # loaded again once per worker (setup)


# ---------------------------------------------------------------------------------------------
# Training


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    label: int  # 1 = reference (positive), 0 = web (negative)


def hashed_sample(items: Iterable[tuple[str, str]], n: int, seed: int, salt: str) -> list[tuple[str, str]]:
    """The n (id, text) pairs with the smallest hash of (seed, salt, id), in that hash order:
    a uniform sample that depends on neither file order nor partitioning; memory O(n)."""
    heap: list[tuple[float, str, str]] = []  # max-heap on the hash via negation
    for doc_id, text in items:
        h = hash_unit(seed, doc_id, salt)
        if len(heap) < n:
            heapq.heappush(heap, (-h, doc_id, text))
        elif -heap[0][0] > h:
            heapq.heapreplace(heap, (-h, doc_id, text))
    return [(i, t) for _, i, t in sorted(heap, key=lambda e: (-e[0], e[1]))]


# The training sample, taken by the workers: each part's documents whose hash of (seed, salt, id)
# is below the class's threshold are cleaned there and written as a small file; the driver reads
# those files one at a time into `hashed_sample` (n documents a class). A threshold of about
# 2n / documents gives ~2n candidates a class whatever the corpus size, so the driver's share is
# bounded by 2n x `max_chars` characters; the result is exactly `hashed_sample` over every
# cleaned document (n smallest hashes), with a raised threshold when cleaning emptied too many.

SAMPLE_SCHEMA = pa.schema([("salt", pa.string()), ("id", pa.string()), ("text", pa.string())])


class SamplePartTask:
    """One part's training candidates: spec = {"part", "input", "source", "classes": [[salt,
    below], ...]} -> `WORK/sample/PART.parquet` (salt, id, cleaned text cut to `max_chars`, the
    most the classifier reads) and the marker `WORK/stats/PART.json`. `clean(id, source, text)`
    applies the filter step's transforms (None: nothing left)."""

    def __init__(self, work: str | Path, clean: Callable[[str, str, str], str | None], max_chars: int, seed: int,
                 batch_rows: int = 1000):
        from pipelines.step import Resources

        from pipelines import storage

        self.work, self.clean, self.max_chars, self.seed, self.batch_rows = storage.location(work), clean, max_chars, seed, batch_rows
        self.resources = Resources()

    def setup(self) -> None:
        pass

    def run(self, spec: dict) -> dict:
        import pyarrow.parquet as pq

        from pipelines import storage
        from pipelines.parts import PartStats, atomic_write_bytes, atomic_write_json

        stats = PartStats(part=spec["part"], source=spec["source"])
        salts, ids_out, texts = [], [], []
        for rb in storage.parquet_file(spec["input"]).iter_batches(columns=["id", "text"], batch_size=self.batch_rows):
            ids = rb.column(0).to_pylist()
            stats.docs_in += len(ids)
            for salt, below in spec["classes"]:
                picked = [k for k, i in enumerate(ids) if below >= 1 or hash_unit(self.seed, i, salt) < below]
                if not picked:
                    continue
                for k, text in zip(picked, rb.column(1).take(picked).to_pylist()):
                    cleaned = self.clean(ids[k], spec["source"], text[: self.max_chars * 2])
                    if cleaned:
                        salts.append(salt)
                        ids_out.append(ids[k])
                        texts.append(cleaned[: self.max_chars])
                        stats.bytes_out += len(texts[-1])
        table = pa.table({"salt": salts, "id": ids_out, "text": texts}, schema=SAMPLE_SCHEMA)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        atomic_write_bytes(self.work / "sample" / f"{spec['part']}.parquet", sink.getvalue().to_pybytes())
        stats.docs_out = table.num_rows
        stats.dropped["not_sampled"] = stats.docs_in - stats.docs_out  # keeps docs_in = out + dropped
        atomic_write_json(self.work / "stats" / f"{spec['part']}.json", stats.to_json())
        return stats.to_json()


def iter_sample_files(files: Sequence[Path], salt: str) -> Iterable[tuple[str, str]]:
    """(id, text) of one class from the workers' sample files, one file in memory at a time."""
    import pyarrow.compute as pc

    from pipelines import storage

    for f in files:
        t = storage.read_table(f)
        t = t.filter(pc.equal(t.column("salt"), salt))
        yield from zip(t.column("id").to_pylist(), t.column("text").to_pylist())


# (sample work folder, specs) -> the sample files of those specs: the caller runs the tasks
# (the stage on its workers through `ctx.map_parts`, `grist quality train` in process).
SampleRound = Callable[[str, list[dict]], list[Path]]


def sample_classes(parts: Sequence[Path], classes: dict[str, frozenset[str]], n: int, seed: int,
                   run_round: SampleRound) -> dict[str, list[tuple[str, str]]]:
    """`hashed_sample(every cleaned document of the class's sources, n, seed, salt)` per class
    (salt -> sources) over parts named SOURCE-NNNNN, with the cleaning on the workers: one round
    at threshold 2n / documents; for a class that came back short (cleaning emptied documents)
    another at 4x the threshold, up to 1 (every document). A sample with n documents below a
    threshold holds the n smallest hashes of all, so the result does not depend on the rounds."""
    from pipelines import storage

    wanted = set().union(*classes.values())
    rows = {p: storage.parquet_file(p).metadata.num_rows for p in parts if _source(p) in wanted}
    below = {}
    for salt, sources in classes.items():
        total = sum(r for p, r in rows.items() if _source(p) in sources)
        below[salt] = min(1.0, 2.0 * n / total) if total else 1.0
    out: dict[str, list[tuple[str, str]]] = {}
    pending = dict(classes)
    while pending:
        specs = []
        for p in sorted(rows):
            cls = [[salt, below[salt]] for salt, srcs in sorted(pending.items()) if _source(p) in srcs]
            if cls:
                specs.append({"part": p.stem, "input": str(p), "source": _source(p), "size": storage.size(p),
                              "classes": cls})
        key = json.dumps(sorted([s, below[s]] for s in pending))
        files = run_round(f"quality-sample-{xxhash.xxh64_hexdigest(key.encode())}", specs)
        for salt in sorted(pending):
            out[salt] = hashed_sample(iter_sample_files(files, salt), n, seed, salt)
            if len(out[salt]) >= n or below[salt] >= 1:
                del pending[salt]
            else:
                below[salt] = min(1.0, 4.0 * below[salt])
    return out


def _source(part: Path) -> str:
    return part.stem.rsplit("-", 1)[0]


def read_labelled(path: str | Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A user's labelled JSONL: {"text": ..., "label": 1|0|true|false|"hq"|"lq"[, "id": ...]}."""
    pos, neg = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            if not line.strip():
                continue
            obj = json.loads(line)
            label = obj["label"]
            is_pos = label in (1, True, "1", "hq", "positive", POSITIVE)
            if not is_pos and label not in (0, False, "0", "lq", "negative", NEGATIVE):
                raise ValueError(f"{path}:{n + 1}: label must be 1/0 (got {label!r})")
            (pos if is_pos else neg).append((str(obj.get("id", n)), obj["text"]))
    return pos, neg


def balanced_examples(pos: list[tuple[str, str]], neg: list[tuple[str, str]], n: int) -> list[Example]:
    """Cut both classes (already in hash order) to the same size."""
    n = min(n, len(pos), len(neg))
    return [Example(i, t, 1) for i, t in pos[:n]] + [Example(i, t, 0) for i, t in neg[:n]]


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """Mann-Whitney U / (n_pos * n_neg), ties counted half."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    if not n_pos or not n_neg:
        return None
    return (sum(r for r, y in zip(ranks, labels) if y) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def binary_metrics(labels: Sequence[int], scores: Sequence[float], threshold: float = 0.5) -> dict:
    pred = [s >= threshold for s in scores]
    tp = sum(p and y for p, y in zip(pred, labels))
    fp = sum(p and not y for p, y in zip(pred, labels))
    fn = sum((not p) and y for p, y in zip(pred, labels))
    auc = roc_auc(labels, scores)
    return {
        "n": len(labels),
        "positives": sum(labels),
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "accuracy": round(sum(p == bool(y) for p, y in zip(pred, labels)) / len(labels), 4) if labels else None,
        "roc_auc": round(auc, 4) if auc is not None else None,
    }


_TRAIN_SCRIPT = "import json, sys, fasttext; fasttext.train_supervised(**json.loads(sys.argv[1])).save_model(sys.argv[2])"


def _train_fresh_process(kwargs: dict, out: Path) -> None:
    """fastText training in a new interpreter. Measured: the same file and arguments give a
    different model (or 'Encountered NaN') in a process that has used fastText before (e.g. loaded
    lid.176), and identical bytes in fresh processes, so training never runs in a long-lived one."""
    proc = subprocess.run([sys.executable, "-c", _TRAIN_SCRIPT, json.dumps(kwargs), str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or ["no output"]
        raise RuntimeError(f"fastText training failed: {lines[-1]}")


def train_classifier(examples: list[Example], cfg: QualityConfig, seed: int, model_path: Path) -> dict:
    """Train on a hashed split of `examples`, evaluate on the held-out rest, save the model
    atomically to `model_path`; returns the metrics. thread=1 + fixed seed: same model each run."""
    held = [e for e in examples if hash_unit(seed, e.id, "holdout") < cfg.holdout]
    train = [e for e in examples if hash_unit(seed, e.id, "holdout") >= cfg.holdout]
    # Interleave the classes in hash order: fastText learns in file order with one thread.
    train.sort(key=lambda e: (hash_unit(seed, e.id, "order"), e.id))
    with tempfile.TemporaryDirectory(prefix="grist-quality-") as tmp:  # local scratch; the model is committed below
        train_file = Path(tmp) / "train.txt"
        tokens = [0, 0]  # per class, as fastText splits them (on whitespace)
        with open(train_file, "w", encoding="utf-8") as f:
            for e in train:
                line = model_text(e.text, cfg.max_chars)
                tokens[e.label] += len(line.split())
                f.write(f"{POSITIVE if e.label else NEGATIVE} {line}\n")
        tmp_model = Path(tmp) / "quality.bin"
        _train_fresh_process(dict(
            input=str(train_file), lr=cfg.lr, dim=cfg.dim, epoch=cfg.epoch, wordNgrams=cfg.word_ngrams,
            minCount=cfg.min_count, bucket=cfg.bucket, loss="softmax", thread=1, seed=seed, verbose=0), tmp_model)
        from pipelines.parts import atomic_write_bytes

        atomic_write_bytes(model_path, tmp_model.read_bytes())
    qm = QualityModel(model_path)
    metrics = {
        "docs_per_class": min(sum(e.label for e in examples), sum(not e.label for e in examples)),
        "train_tokens": {"positive": tokens[1], "negative": tokens[0]},
        "train_examples": len(train),
        "train_positives": sum(e.label for e in train),
        "held_out": binary_metrics([e.label for e in held], qm.scores([model_text(e.text, cfg.max_chars) for e in held])),
        "word_ngrams": cfg.word_ngrams,
    }
    return metrics

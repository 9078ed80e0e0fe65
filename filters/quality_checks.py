"""What makes the quality classifier safe to delete documents with: a hashed sample of each scored
source run through the rules before the classifier and scored on the driver (bounded: at most
`score_sample` documents a source, texts dropped once scored), the keep rate each keep rule is
expected to have on it, and the checks that call a classifier weak (few training documents, weak
held-out AUC, scores that do not spread).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from filters.base import FilterDoc, Rule, run_rules
from filters.config import QualityConfig
from filters.quality import QualityModel, hash_unit, model_text
from pipelines import storage
from pipelines.errors import GristError

SAMPLE_SALT = "quality-sample"
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
# Below this many scored documents a source's interquartile range says little; not checked.
MIN_SCORED_FOR_SPREAD = 20


class WeakClassifierError(GristError):
    """The classifier would delete documents without being able to tell them apart. Exit code 2,
    as for a bad config: the fix is a config change (or more reference data), and the rerun
    resumes (the read stage is not redone)."""

    exit_code = 2


def pareto_keep_probability(score: float, alpha: float) -> float:
    """P(`pareto_keep(score, u, alpha)`) for u uniform in [0, 1): the rule is
    (1 - u)^(-1/alpha) - 1 > 1 - s  <=>  1 - u < (2 - s)^(-alpha), so P = (2 - s)^(-alpha)."""
    return (2.0 - min(max(score, 0.0), 1.0)) ** (-alpha)


def expected_keep(scores: Sequence[float], keep: str, qc: QualityConfig, cutoff: float | None) -> float | None:
    """The share of `scores`' documents the rule `keep` is expected to keep (None: no scores)."""
    if not scores:
        return None
    if keep == "pareto":
        return sum(pareto_keep_probability(s, qc.pareto_alpha) for s in scores) / len(scores)
    if keep == "threshold":
        return sum(s >= qc.threshold for s in scores) / len(scores)
    if keep == "top_fraction":
        return 1.0 if cutoff is None else sum(s >= cutoff for s in scores) / len(scores)
    return 1.0


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of an ascending list (numpy's default method)."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass
class SourceScores:
    """A source's hashed sample: how many documents it has, were sampled, reached the classifier
    (passed the rules before it), and their scores. `examples`: (score, id, text) when asked."""

    source: str
    rows: int = 0
    rate: float = 1.0
    sampled: int = 0
    scores: list[float] = field(default_factory=list)
    examples: list[tuple[float, str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        s = sorted(self.scores)
        out: dict[str, Any] = {"documents": self.rows, "sampled": self.sampled, "scored": len(s)}
        if s:
            out.update({f"p{round(100 * q)}": round(quantile(s, q), 4) for q in QUANTILES})
            out.update(min=round(s[0], 4), max=round(s[-1], 4), iqr=round(quantile(s, 0.75) - quantile(s, 0.25), 4),
                       logit_iqr=round(logit(quantile(s, 0.75)) - logit(quantile(s, 0.25)), 4))
        return out


def logit(p: float, eps: float = 1e-6) -> float:
    p = min(max(p, eps), 1 - eps)  # fastText scores reach 0 and 1
    return math.log(p / (1 - p))


def source_rows(parts: Iterable[Path], sources: Iterable[str]) -> Counter:
    """Documents per source in parts named SOURCE-HASH (parquet footers only)."""
    wanted, rows = set(sources), Counter()
    for p in parts:
        src = p.stem.rsplit("-", 1)[0]
        if src in wanted:
            rows[src] += storage.parquet_file(p).metadata.num_rows
    return rows


def sample_scores(parts: Sequence[Path], sources: Sequence[str], rules: list[Rule], domains: dict[str, str],
                  model: QualityModel, qc: QualityConfig, seed: int, examples: int = 0,
                  batch: int = 256) -> dict[str, SourceScores]:
    """Score a hashed sample of about `qc.score_sample` documents of each source (a document is in
    when hash(seed, id) < score_sample / documents of its source), after `rules` (the stage's rules
    before the classifier), as the workers will see them. Only picked rows become Python strings
    and go through the rules; memory is one batch of texts plus the scores. `examples` > 0 keeps
    that many top and bottom documents a source (for `grist quality train`)."""
    rows = source_rows(parts, sources)
    out = {s: SourceScores(s, rows[s], min(1.0, qc.score_sample / rows[s]) if rows[s] else 1.0) for s in sources}
    for r in rules:
        r.setup()
    pending: list[FilterDoc] = []

    def flush() -> None:
        run_rules(rules, pending)
        live = [d for d in pending if d.reason is None]
        for d, s in zip(live, model.scores([model_text(d.text, qc.max_chars) for d in live]) if live else []):
            ss = out[d.source]
            ss.scores.append(s)
            if examples:
                keep_examples(ss, (s, d.id, d.text[:300]), examples)
        pending.clear()

    for p in parts:
        src = p.stem.rsplit("-", 1)[0]
        if src not in out:
            continue
        ss = out[src]
        for rb in storage.parquet_file(p).iter_batches(columns=["id", "text"], batch_size=1024):
            ids = rb.column(0).to_pylist()
            picked = [k for k, i in enumerate(ids) if hash_unit(seed, i, SAMPLE_SALT) < ss.rate]
            texts = rb.column(1).take(picked).to_pylist() if picked else []  # Python strings for picked rows only
            for k, text in zip(picked, texts):
                pending.append(FilterDoc(ids[k], src, domains.get(src, "other"), text[: qc.max_chars * 2]))
                ss.sampled += 1
                if len(pending) >= batch:
                    flush()
    flush()
    return out


def keep_examples(ss: SourceScores, item: tuple[float, str, str], n: int) -> None:
    """Keep the n best and n worst (score, id, text) of a source."""
    if n <= 0:
        return
    ex = sorted(ss.examples + [item], key=lambda e: (-e[0], e[1]))
    ss.examples = ex if len(ex) <= 2 * n else ex[:n] + ex[-n:]


def weighted_cutoff(samples: Iterable[SourceScores], top_fraction: float) -> float | None:
    """The score above which `top_fraction` of the scored sources' documents lie, each sampled
    document standing for 1/rate documents of its source."""
    items = sorted(((s, 1.0 / ss.rate) for ss in samples for s in ss.scores), reverse=True)
    if not items:
        return None
    total, acc = sum(w for _, w in items), 0.0
    for s, w in items:
        acc += w
        if acc >= top_fraction * total - 1e-9:
            return s
    return items[-1][0]


def weak_reasons(metrics: dict[str, Any] | None, samples: dict[str, SourceScores], qc: QualityConfig) -> list[str]:
    """Why this classifier cannot be trusted to delete documents ([] when it can)."""
    reasons = []
    if metrics is not None:  # trained here (a given .bin has no training facts to check)
        n = metrics.get("docs_per_class", 0)
        if n < qc.min_docs_per_class:
            reasons.append(f"trained on {n:,} documents a class (min_docs_per_class {qc.min_docs_per_class:,})")
        auc = metrics["held_out"].get("roc_auc")
        if auc is None or auc < qc.min_auc:
            shown = "not measurable" if auc is None else f"{auc:.3f}"
            reasons.append(f"held-out ROC AUC {shown} (min_auc {qc.min_auc:g})")
    for s, ss in sorted(samples.items()):
        if len(ss.scores) >= MIN_SCORED_FOR_SPREAD:
            sm = ss.summary()
            # Flat and undecided. Flat near 0 or 1 is a confident verdict (all dropped: the expected
            # keep warns; all kept: harmless); flat in between keeps documents at random.
            if sm["logit_iqr"] < qc.min_logit_iqr and 0.05 < sm["p50"] < 0.95:
                reasons.append(f"scores of {s!r} barely spread (p25 {sm['p25']:.4f}, p75 {sm['p75']:.4f}: "
                               f"{sm['logit_iqr']:.4f} log-odds, min_logit_iqr {qc.min_logit_iqr:g})")
    return reasons


def weak_message(reasons: list[str]) -> str:
    """The one line a stopped run prints: why, and what to do."""
    return ("filters.quality: the classifier is too weak to delete documents: " + "; ".join(reasons)
            + ". Add reference documents (filters.quality.positives), give a trained fastText .bin "
              "(filters.quality.model; build one with `grist quality train`), choose another rule "
              "(filters.quality.keep: none|top_fraction), or set filters.quality.on_weak: warn (apply anyway) "
              "or skip (keep every document)")


def training_line(metrics: dict[str, Any]) -> str:
    """Training size and held-out figures in one line (terminal, `grist quality train`)."""
    tok = metrics.get("train_tokens", {})
    held = metrics["held_out"]
    auc = held.get("roc_auc")
    acc = held.get("accuracy")
    return (f"{metrics.get('docs_per_class', 0):,} documents a class "
            f"({tok.get('positive', 0):,} reference / {tok.get('negative', 0):,} web tokens trained on), "
            f"held-out ROC AUC {'n/a' if auc is None else f'{auc:.3f}'}, "
            f"accuracy {'n/a' if acc is None else f'{acc:.3f}'} (n={held.get('n', 0):,})")


def source_line(name: str, summary: dict[str, Any], keep: str, expected: float | None) -> str:
    """One scored source: sample size, score quartiles and spread, expected keep rate."""
    if not summary.get("scored"):
        return f"{name!r}: no sampled document reached the classifier"
    exp = "" if expected is None else f", expected keep ({keep}) {100 * expected:.1f}%"
    return (f"{name!r}: {summary['scored']:,} of {summary['documents']:,} documents scored, scores p10 {summary['p10']:.4f} "
            f"p50 {summary['p50']:.4f} p90 {summary['p90']:.4f}, IQR {summary['iqr']:.4f} "
            f"({summary['logit_iqr']:.3f} log-odds){exp}")

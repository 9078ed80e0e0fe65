"""The filter stage: (1) train the quality classifier when it is on and no model is given (a
sub-step on the driver, skipped on resume when its outputs exist), (2) one `FilterStep` over every
part: lines -> PII -> language -> C4 -> Gopher quality -> Gopher repetition -> FineWeb -> quality.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filters.base import FilterDoc, FilterStep, Rule, Transform, run_rules
from filters.config import DOMAINS, QualityConfig
from filters.heuristics import C4Filter, FineWebFilter, GopherQualityFilter, GopherRepetitionFilter
from filters.language import LanguageFilter
from filters.lines import LineCleaner
from filters.pii import PiiScrubber
from filters.quality import (QualityFilter, QualityModel, balanced_examples, hashed_sample, iter_part_docs,
                             model_text, read_labelled, train_classifier)
from pipelines.config import Config
from pipelines.errors import ConfigError
from pipelines.parts import atomic_write_json
from pipelines.progress import log
from pipelines.stage import Stage, StageContext, StageResult, merge_parts

STAGE = "filters"

# (section of FiltersConfig, rule class), in the order they are applied. The quality classifier
# comes last and is added by the stage (it needs a trained model).
FILTERS: list[tuple[str, type[Rule]]] = [
    ("lines", LineCleaner),
    ("pii", PiiScrubber),
    ("language", LanguageFilter),
    ("c4", C4Filter),
    ("gopher_quality", GopherQualityFilter),
    ("gopher_repetition", GopherRepetitionFilter),
    ("fineweb", FineWebFilter),
]
KINDS = ("web", "books", "encyclopedia", "code", "jsonl", "parquet")


def build_rules(cfg: Config) -> list[Rule]:
    rules: list[Rule] = []
    for key, cls in FILTERS:
        section = getattr(cfg.filters, key)
        if not section.enabled:
            continue
        if cls is LanguageFilter:  # per-source allowed languages override the default
            rules.append(LanguageFilter(section, allowed={s.name: s.languages for s in cfg.sources}))
        else:
            rules.append(cls(section))
    return rules


@dataclass
class QualitySetup:
    """What the workers need to apply the classifier (all picklable)."""

    model_path: str
    sources: list[str]
    cutoff: float | None = None
    positive_label: str = "__label__hq"


@dataclass
class FilterStepFactory:
    """Picklable: each actor builds its own rules (and loads models in `setup()`)."""

    cfg: Config
    quality: QualitySetup | None = None

    def __call__(self) -> FilterStep:
        rules = build_rules(self.cfg)
        if self.quality is not None:
            q = self.quality
            rules.append(QualityFilter(self.cfg.filters.quality, model_path=q.model_path, sources=q.sources,
                                       seed=self.cfg.seed, cutoff=q.cutoff, positive_label=q.positive_label))
        return FilterStep(rules=rules, domains={s.name: s.domain for s in self.cfg.sources})


def resolve_sources(cfg: Config, entries: list[str], key: str) -> list[str]:
    """Source names for entries that name a source, or else a domain or kind (all sources of that
    domain or kind): with a source called `web` of kind `jsonl`, `web` means that source only. An
    entry that is none of these is an error; a domain or kind no source has is simply empty."""
    names = {s.name for s in cfg.sources}
    picked: set[str] = set()
    for e in entries:
        if e in names:
            picked.add(e)
        elif e in KINDS or e in DOMAINS:
            picked.update(s.name for s in cfg.sources if s.kind == e or s.domain == e)
        else:
            raise ConfigError(f"filters.quality.{key}: no source or kind named {e!r}")
    return sorted(picked)


class FilterStage(Stage):
    name = STAGE
    config_keys = ("filters", "sources")

    def run(self, ctx: StageContext) -> StageResult:
        extra: dict[str, Any] = {}
        quality = None
        if ctx.cfg.filters.quality.enabled:
            quality, extra["quality"] = self._quality(ctx)
        parts = ctx.map_step(FilterStepFactory(ctx.cfg, quality), label=STAGE)
        stats = merge_parts(parts)
        extra["line_cleaning"] = _group(stats.counters, "lines_removed:", "docs_with_lines_removed")
        extra["pii"] = _group(stats.counters, "pii:")
        return StageResult(stats=stats, parts=parts, extra=extra)

    # -- the classifier -------------------------------------------------------------------------

    def _quality(self, ctx: StageContext) -> tuple[QualitySetup | None, dict[str, Any]]:
        cfg, qc = ctx.cfg, ctx.cfg.filters.quality
        apply_to = resolve_sources(cfg, qc.apply_to if qc.apply_to is not None else qc.negatives, "apply_to")
        info: dict[str, Any] = {"keep": qc.keep, "apply_to": apply_to}
        if qc.model:
            path = _resolve_path(qc.model, ctx.base_dir)
            if not path.is_file():
                raise ConfigError(f"filters.quality.model: file not found {qc.model!r}")
            info.update(model=str(path), trained=False)
        else:
            path = ctx.output / STAGE / "quality.bin"
            metrics = self._train(ctx, qc, path)
            if metrics is None:
                log("[yellow]filters: quality classifier skipped (no positive or no negative documents)")
                return None, {**info, "skipped": "no positive or no negative documents to train on"}
            info.update(model=str(path), trained=True, metrics=metrics)
        setup = QualitySetup(str(path), apply_to)
        if qc.keep == "top_fraction":
            setup.cutoff = self._cutoff(ctx, qc, setup)
            info["cutoff"] = setup.cutoff
        return setup, info

    def _train(self, ctx: StageContext, qc: QualityConfig, path: Path) -> dict[str, Any] | None:
        """Train unless this run's model is already there (resume); the metrics file, written
        after the model, is the marker and records the stage hash it belongs to."""
        marker = path.with_name("quality_metrics.json")
        if marker.is_file() and path.is_file():
            done = json.loads(marker.read_text())
            if done.get("hash") == ctx.stage_hash:
                log("[dim]filters: quality classifier up to date, not retrained")
                return done["metrics"]
        cfg = ctx.cfg
        if qc.labelled:
            pos, neg = read_labelled(_resolve_path(qc.labelled, ctx.base_dir))
            pos = hashed_sample(pos, qc.max_per_class, cfg.seed, "quality-pos")
            neg = hashed_sample(neg, qc.max_per_class, cfg.seed, "quality-neg")
            positives, negatives = ["labelled:1"], ["labelled:0"]
        else:
            positives = resolve_sources(cfg, qc.positives, "positives")
            negatives = resolve_sources(cfg, qc.negatives, "negatives")
            clean = _cleaner(cfg)
            pos = hashed_sample(iter_part_docs(ctx.inputs, frozenset(positives), clean, qc.max_chars),
                                qc.max_per_class, cfg.seed, "quality-pos")
            neg = hashed_sample(iter_part_docs(ctx.inputs, frozenset(negatives), clean, qc.max_chars),
                                qc.max_per_class, cfg.seed, "quality-neg")
        if not pos or not neg:
            return None
        log(f"filters: training the quality classifier on {min(len(pos), len(neg))} documents per class")
        metrics = train_classifier(balanced_examples(pos, neg, qc.max_per_class), qc, cfg.seed, path)
        metrics.update(positives=positives, negatives=negatives)
        atomic_write_json(marker, {"hash": ctx.stage_hash, "metrics": metrics})
        return metrics

    def _cutoff(self, ctx: StageContext, qc: QualityConfig, setup: QualitySetup) -> float | None:
        """keep=top_fraction: the score quantile over a hashed sample of the scored sources, so
        that the cutoff is one number known before any worker starts (workers see only a part)."""
        sample = hashed_sample(iter_part_docs(ctx.inputs, frozenset(setup.sources), _cleaner(ctx.cfg), qc.max_chars),
                               qc.top_fraction_sample, ctx.cfg.seed, "quality-cutoff")
        if not sample:
            return None
        scores = sorted(QualityModel(setup.model_path, setup.positive_label).scores(
            [model_text(t, qc.max_chars) for _, t in sample]), reverse=True)
        return scores[max(0, min(len(scores), round(qc.top_fraction * len(scores))) - 1)]


def _cleaner(cfg: Config):
    """The step's text transforms (line cleaning, PII) for the driver's training sample, so the
    classifier is trained on text as it will be scored."""
    transforms = [r for r in build_rules(cfg) if isinstance(r, Transform)]
    domains = {s.name: s.domain for s in cfg.sources}

    def clean(doc_id: str, source: str, text: str) -> str | None:
        doc = FilterDoc(doc_id, source, domains[source], text)
        run_rules(transforms, [doc])
        return None if doc.reason else doc.text

    return clean


def _resolve_path(p: str, base_dir: Path | None) -> Path:
    path = Path(p).expanduser()
    return path if path.is_absolute() or base_dir is None else base_dir / path


def _group(counters: Counter, prefix: str, *also: str) -> dict[str, int]:
    out = {k[len(prefix):]: v for k, v in sorted(counters.items()) if k.startswith(prefix)}
    out.update({k: counters[k] for k in also if counters.get(k)})
    return out

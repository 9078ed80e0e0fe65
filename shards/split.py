"""The train/val split of the shards stage: stratified by source, a function of (seed, id) only.

Within each source, unique documents are ordered by `doc_key(seed, id, "val")`; the validation
split is a prefix of that order: the documents the hash puts below `val_fraction`, extended until
the source holds at least `val_min_documents` documents and `val_min_tokens` tokens. A document
and its repeats (epochs) stay on one side. At most half of a source's documents are added for a
floor, so a small source still trains; a floor that is not met is reported as `short`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.mixture import doc_keys

# Floors never take more than this share of a source's documents away from training.
MAX_FLOOR_SHARE = 0.5


def val_split(seed: int, ids: list[str], sources: list[str], tokens: np.ndarray, fraction: float,
              min_documents: int, min_tokens: int) -> tuple[np.ndarray, dict[str, dict[str, Any]]]:
    """(is_val per selection row, per-source stats) for selection rows (`ids`, `sources`, `tokens`
    per row; a document's repeats are rows with the same source and id). `fraction` 0 = no val."""
    if fraction <= 0 or not len(ids):
        return np.zeros(len(ids), bool), {}
    limit = np.uint64(min(int(fraction * 2**64), 2**64 - 1))
    copies: dict[tuple[str, str], int] = {}
    for s, i, n in zip(sources, ids, tokens.tolist()):
        copies[(s, i)] = copies.get((s, i), 0) + int(n)  # tokens the document puts in val, repeats included
    chosen: set[tuple[str, str]] = set()
    stats: dict[str, dict[str, Any]] = {}
    for s in sorted({s for s, _ in copies}):
        uids = sorted(i for src, i in copies if src == s)
        keys = doc_keys(seed, uids, "val")
        order = sorted(range(len(uids)), key=lambda j: (int(keys[j]), uids[j]))
        cum = np.cumsum([copies[(s, uids[j])] for j in order])
        by_hash = int((keys < limit).sum())  # the first `by_hash` of `order`
        for_tokens = int(np.searchsorted(cum, min_tokens, side="left")) + 1 if min_tokens > 0 else 0
        want = max(by_hash, min_documents, for_tokens)
        k = min(want, max(by_hash, int(len(uids) * MAX_FLOOR_SHARE)))
        chosen.update((s, uids[j]) for j in order[:k])
        stats[s] = {"documents": k, "tokens": int(cum[k - 1]) if k else 0, "source_documents": len(uids),
                    "by_hash": by_hash, "added_for_floor": k - by_hash, "short": k < want}
    is_val = np.fromiter(((s, i) in chosen for s, i in zip(sources, ids)), bool, count=len(ids))
    return is_val, stats


def short_warnings(stats: dict[str, dict[str, Any]], min_documents: int, min_tokens: int) -> list[str]:
    """One line per source whose validation split is below a floor."""
    return [f"shards: source {s!r}: validation holds {v['documents']} documents, {v['tokens']:,} tokens, below "
            f"val_min_documents={min_documents} / val_min_tokens={min_tokens:,} (at most "
            f"{MAX_FLOOR_SHARE:.0%} of its {v['source_documents']} documents are held out)"
            for s, v in stats.items() if v["short"]]

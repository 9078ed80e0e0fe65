"""The train/val split of the shards stage: stratified by source, a function of (seed, id) only.

Within each source, unique documents are ordered by `doc_key(seed, id, "val")`; the validation
split is a prefix of that order: the documents the hash puts below `val_fraction`, extended until
the source holds at least `val_min_documents` documents and `val_min_tokens` tokens. A document
and its repeats (epochs) stay on one side. At most half of a source's documents are added for a
floor, so a small source still trains; a floor that is not met is reported as `short`.

`val_split` computes it over rows in memory (the reference). The shards stage computes the same
split without the rows on the driver (`decide_val`): workers `scan_val` the selection files and
return per-source counts, histograms over the key's top bits and, for the one bucket where a floor
ends, that bucket's rows; the driver turns them into one cut per source, a (key, id) pair
(`pipelines.mixture_select.below_cut`: documents before it in (key, id) order are val), which
workers apply. A floor's bucket is refined (a finer histogram of it) while it holds more than
`gather_limit` documents, so the driver holds at most that many rows a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.mixture import doc_keys
from pipelines.mixture_select import KEY_BITS, Range

# Floors never take more than this share of a source's documents away from training.
MAX_FLOOR_SHARE = 0.5


def val_split(seed: int, ids: list[str], sources: list[str], tokens: np.ndarray, fraction: float,
              min_documents: int, min_tokens: int) -> tuple[np.ndarray, dict[str, dict[str, Any]]]:
    """(is_val per selection row, per-source stats) for selection rows (`ids`, `sources`, `tokens`
    per row; a document's repeats are rows with the same source and id). `fraction` 0 = no val."""
    if fraction <= 0 or not len(ids):
        return np.zeros(len(ids), bool), {}
    limit = np.uint64(hash_limit(fraction))
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


def hash_limit(fraction: float) -> int:
    """Documents whose val key is below this are val by hash."""
    return min(int(fraction * 2**64), 2**64 - 1)


# --- the same split without the rows on the driver ---------------------------------------------

HIST_BITS = 10
GATHER_LIMIT = 100_000  # documents of one bucket gathered to the driver to place a cut
VHIST_SCHEMA = pa.schema([("source", pa.string()), ("bucket", pa.int64()), ("docs", pa.int64()), ("tokens", pa.int64())])
GATHER_SCHEMA = pa.schema([("source", pa.string()), ("key", pa.uint64()), ("id", pa.string()), ("epoch", pa.int32()),
                           ("tokens", pa.int64())])


def scan_val(rows: pa.Table, seed: int, limit: int, hist: dict[str, list[int]],
             gather: dict[str, list[int]]) -> tuple[dict[str, int], pa.Table, pa.Table]:
    """Worker side, over selection rows (`id`, `source`, `epoch`, `tokens`): per source the
    documents (epoch-0 rows: every selected document has one), tokens (repeats included) and both
    below `limit`; a histogram (documents, tokens) over each source's `hist` range [lo, shift,
    bits] (key "*": every source's); the rows whose key falls in each `gather` range."""
    counts: dict[str, int] = {}
    hists, rows_out = [], []
    src = rows.column("source")
    for s in sorted(pc.unique(src).to_pylist()):
        t = rows.filter(pc.equal(src, s))
        keys = doc_keys(seed, t.column("id").to_pylist(), "val")
        tokens = t.column("tokens").to_numpy().astype(np.int64)
        first = t.column("epoch").to_numpy() == 0
        below = keys < np.uint64(limit)
        counts.update({f"docs:{s}": int(first.sum()), f"tokens:{s}": int(tokens.sum()),
                       f"docs_below:{s}": int((first & below).sum()), f"tokens_below:{s}": int(tokens[below].sum())})
        spec = hist.get(s, hist.get("*"))
        if spec is not None:
            rng = Range(*spec)
            m = rng.mask(keys)
            b = rng.buckets(keys[m])
            n = 1 << rng.bits
            docs = np.bincount(b, weights=first[m], minlength=n).astype(np.int64)
            tok = np.bincount(b, weights=tokens[m].astype(np.float64), minlength=n).round().astype(np.int64)
            nz = np.flatnonzero(tok)
            hists.append(pa.table({"source": pa.array([s] * len(nz), pa.string()), "bucket": nz.astype(np.int64),
                                   "docs": docs[nz], "tokens": tok[nz]}, schema=VHIST_SCHEMA))
        if s in gather:
            m = Range(*gather[s]).mask(keys)
            g = t.filter(pa.array(m))
            rows_out.append(pa.table({"source": g.column("source"), "key": pa.array(keys[m], pa.uint64()), "id": g.column("id"),
                                      "epoch": g.column("epoch").cast(pa.int32()), "tokens": g.column("tokens")},
                                     schema=GATHER_SCHEMA))
    return (counts, pa.concat_tables(hists) if hists else VHIST_SCHEMA.empty_table(),
            pa.concat_tables(rows_out) if rows_out else GATHER_SCHEMA.empty_table())


@dataclass
class _Find:
    """One source's search for the first document, in (key, id) order, whose running weight
    (documents or tokens, repeats included) passes `target`; `docs` / `tokens` are those of the
    documents before `rng`."""

    by: str  # "docs" | "tokens"
    target: int
    rng: Range
    docs: int = 0
    tokens: int = 0
    found: tuple[int, list, int] | None = None  # (rank, cut [key, id], tokens before it)


def _narrow(f: _Find, docs: np.ndarray, tokens: np.ndarray, bits: int, gather_limit: int) -> str:
    w = docs if f.by == "docs" else tokens
    cum = (f.docs if f.by == "docs" else f.tokens) + np.cumsum(w)
    j = int(np.searchsorted(cum, f.target, side="right"))  # the first bucket whose running weight passes target
    if j == len(cum):
        f.docs, f.tokens = f.docs + int(docs.sum()), f.tokens + int(tokens.sum())
        f.found = (f.docs, [1 << KEY_BITS, None], f.tokens)
        return "done"
    f.docs, f.tokens = f.docs + int(docs[:j].sum()), f.tokens + int(tokens[:j].sum())
    start = f.rng.lo + (j << f.rng.shift)
    if docs[j] <= gather_limit or f.rng.shift == 0:
        f.rng = Range(start, f.rng.shift, 0)
        return "gather"
    b = min(bits, f.rng.shift)
    f.rng = Range(start, f.rng.shift - b, b)
    return "refine"


def _place(f: _Find, rows: pa.Table) -> None:
    """The exact document from every row of the search's bucket (a document's repeats summed)."""
    tok: dict[tuple[int, str], int] = {}
    for k, i, n in zip(rows.column("key").to_numpy().tolist(), rows.column("id").to_pylist(),
                       rows.column("tokens").to_pylist()):
        tok[(k, i)] = tok.get((k, i), 0) + int(n)
    docs = sorted(tok)  # (key, id): the split's order
    d, t = f.docs, f.tokens
    for k, i in docs:
        if (d + 1 if f.by == "docs" else t + tok[(k, i)]) > f.target:
            f.found = (d, [k, i], t)
            return
        d, t = d + 1, t + tok[(k, i)]
    f.found = (d, [f.rng.lo + (1 << (f.rng.shift + f.rng.bits)), None], t)


Scan = Callable[[dict[str, list[int]], dict[str, list[int]]], tuple[dict[str, int], pa.Table, pa.Table]]


def _find_all(scan: Scan, finds: dict[str, _Find], hist: pa.Table, bits: int, gather_limit: int) -> None:
    """Run every search to its document: one scan per refinement or gather step, all sources at once."""
    state = {s: _narrow(f, *_summed(hist, s, f.rng), bits, gather_limit) for s, f in finds.items()}
    while any(v != "done" for v in state.values()):
        hist_ranges = {s: f.rng.spec(0)[1:] for s, f in finds.items() if state[s] == "refine"}
        gather = {s: f.rng.spec(0)[1:] for s, f in finds.items() if state[s] == "gather"}
        _, h, rows = scan(hist_ranges, gather)
        for s in gather:
            _place(finds[s], rows.filter(pc.equal(rows.column("source"), s)))
            state[s] = "done"
        for s in hist_ranges:
            state[s] = _narrow(finds[s], *_summed(h, s, finds[s].rng), bits, gather_limit)


def _summed(hist: pa.Table, source: str, rng: Range) -> tuple[np.ndarray, np.ndarray]:
    n = 1 << rng.bits
    docs, tokens = np.zeros(n, np.int64), np.zeros(n, np.int64)
    t = hist.filter(pc.equal(hist.column("source"), source))
    np.add.at(docs, t.column("bucket").to_numpy(), t.column("docs").to_numpy())
    np.add.at(tokens, t.column("bucket").to_numpy(), t.column("tokens").to_numpy())
    return docs, tokens


def decide_val(scan: Scan, fraction: float, min_documents: int, min_tokens: int, bits: int = HIST_BITS,
               gather_limit: int = GATHER_LIMIT) -> tuple[dict[str, list], dict[str, dict[str, Any]], dict[str, int]]:
    """`val_split` from scans: (cut per source, stats per source, documents per source). `scan(hist,
    gather)` runs `scan_val` over every selection file and sums what it returns (counts added, the
    histograms and rows concatenated); the first call, ({"*": top range}, {}), gives the counts and
    top-level histograms. A source with no val has no cut."""
    top = Range(0, KEY_BITS - bits, bits)
    counts, hist, _ = scan({"*": top.spec(0)[1:]}, {})
    sources = sorted(k.split(":", 1)[1] for k in counts if k.startswith("docs:"))
    documents = {s: counts[f"docs:{s}"] for s in sources}
    if fraction <= 0 or not sources:
        return {}, {}, documents
    by_hash = {s: counts[f"docs_below:{s}"] for s in sources}
    # the token floor: where the running tokens reach it, when the hash's documents fall short
    finds = {s: _Find("tokens", min_tokens - 1, top) for s in sources
             if min_tokens > 0 and counts[f"tokens_below:{s}"] < min_tokens}
    _find_all(scan, finds, hist, bits, gather_limit)
    want, k = {}, {}
    for s in sources:
        for_tokens = finds[s].found[0] + 1 if s in finds else 0  # <= by_hash when not searched
        want[s] = max(by_hash[s], min_documents, for_tokens)
        k[s] = min(want[s], max(by_hash[s], int(documents[s] * MAX_FLOOR_SHARE)))
    cuts, tokens = {}, {}
    ranks = {s: _Find("docs", k[s], top) for s in sources if k[s] > by_hash[s]}
    _find_all(scan, ranks, hist, bits, gather_limit)
    for s in sources:
        if s in ranks:
            rank, cuts[s], tokens[s] = ranks[s].found
            assert rank == k[s], (s, rank, k[s])
        else:
            cuts[s], tokens[s] = [hash_limit(fraction), None], counts[f"tokens_below:{s}"]
    stats = {s: {"documents": k[s], "tokens": tokens[s], "source_documents": documents[s], "by_hash": by_hash[s],
                 "added_for_floor": k[s] - by_hash[s], "short": k[s] < want[s]} for s in sources}
    return cuts, stats, documents

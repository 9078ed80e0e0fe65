"""The mixture: how many tokens of each source a training run sees.

Planning works on token counts per source. Each source gets a share of `target_tokens`
(`weight^(1/temperature)`, normalised); a source that cannot fill its share within its
`max_epochs` is capped and the others are renormalised to fill the budget (a warning says so).

Selection is a pure function of (seed, document id, epoch) and the token counts: a source with
2.4 planned epochs repeats every document in epochs 0 and 1, and in epoch 2 takes its documents
in order of `doc_key(seed, id, 2)` until 0.4 of its tokens are reached. No worker order enters.

The mixture stage plans with a cheap estimate (UTF-8 bytes / `bytes_per_token`) before a tokenizer
exists, and writes that selection for the tokenizer's training sample. The shards stage repeats
the same planning with exact token counts (the correction) before it writes shards.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from pipelines.config import Config
from pipelines.parts import PARQUET_OPTS, PartStats
from pipelines.progress import log
from pipelines.stage import Stage, StageContext, StageResult

SELECTION_SCHEMA = pa.schema([("id", pa.string()), ("source", pa.string()), ("epoch", pa.int32()), ("tokens", pa.int64()),
                              ("chars", pa.int64())])


def doc_key(seed: int, doc_id: str, salt: int | str) -> int:
    """A 64-bit hash of (seed, id, salt): the only source of randomness in selection and order."""
    return xxhash.xxh64_intdigest(f"{seed}\x1f{salt}\x1f{doc_id}".encode())


def doc_keys(seed: int, ids: list[str], salt: int | str) -> np.ndarray:
    return np.fromiter((doc_key(seed, i, salt) for i in ids), dtype=np.uint64, count=len(ids))


@dataclass
class SourcePlan:
    source: str
    weight: float
    target_share: float  # requested share (weights after temperature)
    available_tokens: int  # one pass over the source's kept documents
    documents: int
    max_epochs: float
    planned_tokens: float = 0.0
    epochs: float = 0.0
    capped: bool = False

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["planned_tokens"] = int(round(self.planned_tokens))
        d["epochs"] = round(self.epochs, 6)
        return d


def plan_mixture(
    available: dict[str, int], documents: dict[str, int], weights: dict[str, float], max_epochs: dict[str, float],
    target_tokens: int | None, temperature: float = 1.0,
) -> tuple[dict[str, SourcePlan], list[str]]:
    """Tokens (and epochs) per source. Returns the plans and human-readable warnings."""
    warnings: list[str] = []
    raw = {s: (w ** (1.0 / temperature) if w > 0 else 0.0) for s, w in weights.items()}
    total_w = sum(raw.values())
    plans = {s: SourcePlan(s, weights[s], raw[s] / total_w, int(available.get(s, 0)), int(documents.get(s, 0)),
                           max_epochs[s]) for s in sorted(weights)}
    if target_tokens is None:  # every kept token once
        for p in plans.values():
            p.planned_tokens, p.epochs = (float(p.available_tokens), 1.0) if p.weight > 0 else (0.0, 0.0)
        return plans, warnings
    free = {s for s, p in plans.items() if p.target_share > 0}
    for s in sorted(free):
        if plans[s].available_tokens == 0:
            warnings.append(f"mixture: source {s!r} has no documents left; its share goes to the others")
            plans[s].capped = True
            free.discard(s)
    budget = float(target_tokens)
    while free:  # cap sources that cannot fill their share; renormalise the rest; repeat
        share_sum = sum(plans[s].target_share for s in free)
        newly = [s for s in sorted(free) if budget * plans[s].target_share / share_sum
                 > plans[s].max_epochs * plans[s].available_tokens]
        if not newly:
            for s in free:
                plans[s].planned_tokens = budget * plans[s].target_share / share_sum
            break
        for s in newly:
            p = plans[s]
            p.capped, p.planned_tokens = True, p.max_epochs * p.available_tokens
            budget -= p.planned_tokens
            free.discard(s)
            warnings.append(
                f"mixture: source {s!r} cannot fill its share {p.target_share:.1%} of {target_tokens:,} tokens within "
                f"max_epochs={p.max_epochs:g} ({p.available_tokens:,} tokens a pass); capped at "
                f"{p.planned_tokens:,.0f} tokens, the other sources renormalised")
    for p in plans.values():
        p.epochs = p.planned_tokens / p.available_tokens if p.available_tokens else 0.0
    total = sum(p.planned_tokens for p in plans.values())
    if total < target_tokens * (1 - 1e-9):
        warnings.append(f"mixture: target_tokens {target_tokens:,} not reachable; every source capped, "
                        f"the mix has {total:,.0f} tokens")
    return plans, warnings


def select_epochs(ids: list[str], tokens: np.ndarray, want: float, seed: int) -> list[tuple[np.ndarray, int]]:
    """(row indices, epoch) pairs giving `want` tokens of one source: full passes, then a partial
    pass over the rows in `doc_key(seed, id, epoch)` order until the remaining tokens are reached
    (a row is in when the middle of its tokens falls inside the budget, so the error is < half a
    document). `ids` must be in a canonical order (sorted)."""
    avail = float(tokens.sum())
    if want <= 0 or avail <= 0:
        return []
    full = int(math.floor(want / avail + 1e-9))
    out = [(np.arange(len(ids)), e) for e in range(full)]
    rest = want - full * avail
    if rest > 0.5:
        order = np.argsort(doc_keys(seed, ids, full), kind="stable")
        mid = np.cumsum(tokens[order]) - tokens[order] / 2.0
        k = int(np.searchsorted(mid, rest, side="left"))
        if k:
            out.append((np.sort(order[:k]), full))
    return out


def source_settings(cfg: Config) -> tuple[dict[str, float], dict[str, float]]:
    """(weight, max_epochs) per source; a source's own max_epochs overrides the mixture's."""
    weights = {s.name: s.weight for s in cfg.sources}
    caps = {s.name: s.max_epochs or cfg.mixture.max_epochs for s in cfg.sources}
    return weights, caps


def plan_and_select(cfg: Config, catalog: pa.Table) -> tuple[dict[str, SourcePlan], list[str], pa.Table]:
    """Plan over a catalog (`id`, `source`, `tokens` per unique document; extra columns are kept)
    and select. Returns plans, warnings and the selection: the catalog's rows (+ `row`, `epoch`),
    one per (document, epoch), grouped by source, rows sorted by id within a source."""
    weights, caps = source_settings(cfg)
    mix = cfg.mixture
    if not mix.enabled:  # no mixture: every kept document once, whatever the weights
        weights = {s: 1.0 for s in weights}
    target = mix.target_tokens if mix.enabled else None
    temperature = mix.temperature if mix.enabled else 1.0
    src_col = catalog.column("source")
    by_src: dict[str, np.ndarray] = {}
    for s in weights:
        rows = np.flatnonzero(pc.equal(src_col, s).to_numpy(zero_copy_only=False))
        ids = catalog.column("id").take(rows).to_pylist()
        order = sorted(range(len(ids)), key=ids.__getitem__)  # canonical: by id, never by part or worker
        by_src[s] = rows[np.array(order, dtype=np.int64)] if order else rows
    tok = catalog.column("tokens").to_numpy()
    available = {s: int(tok[r].sum()) for s, r in by_src.items()}
    documents = {s: len(r) for s, r in by_src.items()}
    plans, warnings = plan_mixture(available, documents, weights, caps, target, temperature)
    picked_rows, picked_epochs = [], []
    for s, rows in by_src.items():
        ids = catalog.column("id").take(rows).to_pylist()
        for idx, epoch in select_epochs(ids, tok[rows], plans[s].planned_tokens, cfg.seed):
            picked_rows.append(rows[idx])
            picked_epochs.append(np.full(len(idx), epoch, dtype=np.int32))
    rows = np.concatenate(picked_rows) if picked_rows else np.zeros(0, np.int64)
    epochs = np.concatenate(picked_epochs) if picked_epochs else np.zeros(0, np.int32)
    sel = catalog.take(rows).append_column("row", pa.array(rows, pa.int64())).append_column("epoch", pa.array(epochs))
    return plans, warnings, sel


def mixture_table(plans: dict[str, SourcePlan], realized: dict[str, int] | None = None,
                  unique_docs: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """The GPT-3 table: per source target share, planned tokens and epochs, realized tokens/share."""
    total_planned = sum(p.planned_tokens for p in plans.values()) or 1.0
    total_real = sum((realized or {}).values()) or 1
    rows = []
    for s, p in plans.items():
        r = p.to_json()
        r["planned_share"] = round(p.planned_tokens / total_planned, 6)
        if realized is not None:
            r["realized_tokens"] = int(realized.get(s, 0))
            r["realized_share"] = round(r["realized_tokens"] / total_real, 6)
            r["realized_epochs"] = round(r["realized_tokens"] / p.available_tokens, 6) if p.available_tokens else 0.0
        if unique_docs is not None:
            r["unique_documents"] = int(unique_docs.get(s, 0))
        rows.append(r)
    return rows


def estimate_catalog(parts: list, bytes_per_token: float, batch_rows: int = 4096) -> tuple[pa.Table, int]:
    """(id, source, tokens, chars) of every document, tokens estimated from UTF-8 bytes (+1 for the
    end-of-text token), and the total text bytes. Streams the parts batch by batch."""
    tables, nbytes = [], 0
    for path in parts:
        for rb in pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=["id", "source", "text"]):
            blen = pc.binary_length(rb.column(2)).to_numpy(zero_copy_only=False).astype(np.int64)
            nbytes += int(blen.sum())
            est = np.ceil(blen / bytes_per_token).astype(np.int64) + 1
            chars = pc.utf8_length(rb.column(2)).cast(pa.int64())
            tables.append(pa.table({"id": rb.column(0), "source": rb.column(1), "tokens": est, "chars": chars}))
    if not tables:
        return SELECTION_SCHEMA.empty_table().drop_columns(["epoch"]), 0
    return pa.concat_tables(tables).combine_chunks(), nbytes


class MixtureStage(Stage):
    """Plans the mixture from estimated token counts and writes `selection/SOURCE.parquet`
    (id, source, epoch, estimated tokens, chars) for the tokenizer's training sample."""

    name = "mixture"
    config_keys = ("mixture", "sources")
    documents = False

    def run(self, ctx: StageContext) -> StageResult:
        mix = ctx.cfg.mixture
        catalog, nbytes = estimate_catalog(ctx.inputs, mix.bytes_per_token)
        plans, warnings, sel = plan_and_select(ctx.cfg, catalog)
        for w in warnings:
            log(f"[yellow]warning (estimated token counts, corrected when shards are written): {w}")
        out = ctx.work / "selection"
        out.mkdir(parents=True, exist_ok=True)
        sel = sel.select(SELECTION_SCHEMA.names).cast(SELECTION_SCHEMA)
        for s in plans:
            part = sel.filter(pc.equal(sel.column("source"), s))
            tmp = out / f".{s}.parquet.tmp"
            pq.write_table(part, tmp, **PARQUET_OPTS)
            tmp.replace(out / f"{s}.parquet")
        n = catalog.num_rows
        extra = {
            "estimate": f"utf8_bytes / {mix.bytes_per_token:g} + 1",
            "target_tokens": mix.target_tokens,
            "temperature": mix.temperature,
            "planned_tokens": int(round(sum(p.planned_tokens for p in plans.values()))),
            "selected": sel.num_rows,
            "table": mixture_table(plans),
            "warnings": warnings,
        }
        return StageResult(stats=PartStats(docs_in=n, docs_out=n, bytes_in=nbytes, bytes_out=nbytes,
                                           counters=Counter(selected=sel.num_rows)), extra=extra)


def selection_dir(output) -> Any:
    """The mixture stage's selection folder under OUTPUT/_work, or None when it has not run."""
    found = sorted((output / "_work").glob("*-mixture/selection"))
    return found[-1] if found else None

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

The stage itself never brings documents to the driver (`select_mixture`, pipelines/mixture_select.py):
workers write per-part catalogs and key histograms, the driver plans and narrows each partial epoch
to a cut, workers write the selection. The shards stage runs the same `select_mixture` over the
token parts' catalogs (exact counts). `plan_and_select` is the same selection over an in-memory
catalog (the reference the stage is tested against).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from pipelines import storage
from pipelines.config import Config
from pipelines.parts import PartStats
from pipelines.progress import log
from pipelines.stage import Stage, StageContext, StageResult, merge_parts

from pipelines.mixture_select import (SELECTION_SCHEMA, KEY_BITS, Range, Search, TaskFactory, epoch_budget,
                                      find_buckets, finish_bucket, round_dir, round_specs, selection_schema, table_bytes)
from pipelines.parts import atomic_write_bytes

HIST_BITS = 10  # 1,024 buckets a histogram (the driver sums one per part and source)
GATHER_LIMIT = 100_000  # rows of one bucket (key, id, tokens, chars) gathered to the driver to place a cut


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
    full, rest = epoch_budget(want, float(tokens.sum()))
    out = [(np.arange(len(ids)), e) for e in range(full)]
    if rest is not None:
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


def mix_settings(cfg: Config) -> tuple[dict[str, float], dict[str, float], int | None, float]:
    """(weights, max_epochs, target_tokens, temperature) the plan uses; without a mixture every
    kept document once, whatever the weights."""
    weights, caps = source_settings(cfg)
    mix = cfg.mixture
    if not mix.enabled:
        weights = {s: 1.0 for s in weights}
    return weights, caps, (mix.target_tokens if mix.enabled else None), (mix.temperature if mix.enabled else 1.0)


def plan_and_select(cfg: Config, catalog: pa.Table) -> tuple[dict[str, SourcePlan], list[str], pa.Table]:
    """Plan over a catalog (`id`, `source`, `tokens` per unique document; extra columns are kept)
    and select. Returns plans, warnings and the selection: the catalog's rows (+ `row`, `epoch`),
    one per (document, epoch), grouped by source, rows sorted by id within a source."""
    weights, caps, target, temperature = mix_settings(cfg)
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
        for rb in storage.parquet_file(path).iter_batches(batch_size=batch_rows, columns=["id", "source", "text"]):
            blen = pc.binary_length(rb.column(2)).to_numpy(zero_copy_only=False).astype(np.int64)
            nbytes += int(blen.sum())
            est = np.ceil(blen / bytes_per_token).astype(np.int64) + 1
            chars = pc.utf8_length(rb.column(2)).cast(pa.int64())
            tables.append(pa.table({"id": rb.column(0), "source": rb.column(1), "tokens": est, "chars": chars}))
    if not tables:
        return SELECTION_SCHEMA.empty_table().drop_columns(["epoch"]), 0
    return pa.concat_tables(tables).combine_chunks(), nbytes


class MixtureStage(Stage):
    """Plans the mixture from estimated token counts and writes `selection/PART.parquet` (id,
    source, epoch, estimated tokens, chars; one file per input part) for the tokenizer's sample.
    Map -> aggregate -> decide -> map (pipelines/mixture_select.py); the driver holds counts,
    histograms and at most `GATHER_LIMIT` (key, id, tokens) rows, never the catalog or texts."""

    name = "mixture"
    config_keys = ("mixture", "sources")
    documents = False
    bits = HIST_BITS
    gather_limit = GATHER_LIMIT

    def run(self, ctx: StageContext) -> StageResult:
        mix, cfg = ctx.cfg.mixture, ctx.cfg
        specs = [{**sp, "round": "catalog"} for sp in ctx.input_specs()]
        factory = TaskFactory(str(ctx.work / "catalog"), cfg.seed, mix.bytes_per_token, self.bits)
        res = select_mixture(cfg, ctx.map_parts, ctx.work, factory, specs, self.gather_limit,
                             label="mixture", note=" (estimated token counts, corrected when shards are written)")
        if not res.parts_selected:  # the tokenizer reads the folder: an empty selection is one empty file
            atomic_write_bytes(res.selection / "empty.parquet", table_bytes(SELECTION_SCHEMA.empty_table()))
        stats, plans, searches = res.stats, res.plans, res.searches
        n, nbytes = stats.docs_in, stats.bytes_in
        extra = {
            "estimate": f"utf8_bytes / {mix.bytes_per_token:g} + 1",
            "target_tokens": mix.target_tokens,
            "temperature": mix.temperature,
            "planned_tokens": int(round(sum(p.planned_tokens for p in plans.values()))),
            "selected": res.selected,
            "table": mixture_table(plans),
            "warnings": res.warnings,
            "map_rounds": res.rounds,
            "cuts": {s: {"epoch": se.salt, "key": str(se.cut[0]), "id": se.cut[1]} for s, se in sorted(searches.items())},
        }
        return StageResult(stats=PartStats(docs_in=n, docs_out=n, bytes_in=nbytes, bytes_out=nbytes,
                                           counters=Counter(selected=res.selected)), extra=extra)


@dataclass
class Selected:
    """What `select_mixture` decided and wrote: `selection/*.parquet` under its root."""

    plans: dict[str, SourcePlan]
    warnings: list[str]
    stats: PartStats  # the catalog round's, merged: docs and (estimated or exact) tokens per source
    selection: Path
    selected: int  # selection rows
    rounds: int
    searches: dict[str, Search]
    parts_selected: int  # select tasks (0: no catalog held a selected source)


def select_mixture(cfg: Config, mapper, root: Path, factory: TaskFactory, specs: list[dict[str, Any]],
                   gather_limit: int, *, label: str, note: str = "") -> Selected:
    """Plan the mixture and write its selection, map -> aggregate -> decide -> map: a `catalog`
    round over `specs` (documents parts with estimated tokens, or the token parts' catalogs with
    exact ones, spec `kind: tokens`), the driver plans and narrows each partial epoch to a cut,
    a `select` round writes `root/selection/PART.parquet`, the cut buckets' rows
    `~cut-SOURCE.parquet`. `mapper(factory, specs, label=, work=)` runs a round (`ctx.map_parts`
    or the like). The rows are `plan_and_select`'s over the whole catalog."""
    weights, caps, target, temperature = mix_settings(cfg)
    bits = factory.bits
    # The salts a partial epoch can use (floor(planned / available) < max_epochs): their key
    # histograms come with the catalog, so the usual plan needs no histogram round of its own.
    salts = {s: list(range(math.ceil(caps[s]))) if target is not None and caps[s] <= 8 else [] for s in weights}
    work = storage.location(factory.work)
    parts = mapper(factory, [{**sp, "salts": salts} for sp in specs], label=f"{label} catalog", work=work)
    stats = merge_parts(parts)
    available = {s: int(stats.counters.get(f"tokens:{s}", 0)) for s in weights}
    documents = {s: int(stats.counters.get(f"docs:{s}", 0)) for s in weights}
    plans, warnings = plan_mixture(available, documents, weights, caps, target, temperature)
    for w in warnings:
        log(f"[yellow]warning{note}: {w}")

    catalogs: dict[str, list[dict[str, Any]]] = {}
    for p in sorted(parts, key=lambda p: p.part):
        for s in weights:
            if p.counters.get(f"docs:{s}"):
                catalogs.setdefault(s, []).append({"part": p.part, "catalog": str(work / "catalog" / f"{p.part}.parquet"),
                                                   "size": p.bytes_in})
    budgets = {s: epoch_budget(plans[s].planned_tokens, float(available[s])) for s in weights}
    searches = {s: Search(s, full, rest, Range(0, KEY_BITS - bits, bits))
                for s, (full, rest) in budgets.items() if rest is not None}
    rounds, state = 2, {}
    if searches:
        missing = {s: se for s, se in searches.items() if se.salt not in salts[s]}
        hist_files = [work / "hist" / f"{p.part}.parquet" for p in parts]
        if missing:  # an unusual cap (> 8 epochs): one histogram round for those sources
            hist_files += _histogram_round(mapper, root, factory, catalogs, missing, label)
        state = find_buckets(mapper, root, factory, catalogs, searches, hist_files, gather_limit)
        rounds += (1 if missing else 0) + max((len(se.rounds) for se in searches.values()), default=0)

    selection = root / "selection"
    plan_spec = {s: {"full": full, "salt": full,
                     "cut": searches[s].cut if s in searches and state[s] == "done" else None,
                     "bucket": [searches[s].rng.lo, searches[s].rng.shift, 0] if state.get(s) == "gather" else None}
                 for s, (full, _) in budgets.items() if full or s in searches}
    by_part: dict[str, dict[str, Any]] = {}
    for s, cs in sorted(catalogs.items()):
        for c in cs:
            spec = by_part.setdefault(c["part"], {"round": "select", "part": c["part"], "catalog": c["catalog"],
                                                  "size": c["size"], "selection": str(selection), "plans": {}})
            if s in plan_spec:
                spec["plans"][s] = plan_spec[s]
    sel_specs = [by_part[p] for p in sorted(by_part)]
    sel_work = round_dir(root, "select", plan_spec)
    sel_parts = mapper(factory.at(sel_work), sel_specs, label=f"{label} select", work=sel_work)
    selected = sum(p.docs_out for p in sel_parts)
    gathered = [s for s, v in sorted(state.items()) if v == "gather"]
    if gathered:  # the driver's only rows: the cut buckets' (at most gather_limit a source)
        pending = pa.concat_tables([storage.read_table(sel_work / "pending" / f"{sp['part']}.parquet") for sp in sel_specs])
        for s in gathered:
            rows = finish_bucket(searches[s], pending.filter(pc.equal(pending.column("source"), s)),
                                 selection_schema(factory.carry))
            atomic_write_bytes(selection / f"~cut-{s}.parquet", table_bytes(rows))
            selected += rows.num_rows
    return Selected(plans, warnings, stats, selection, selected, rounds, searches, len(sel_specs))


def _histogram_round(mapper, root: Path, factory: TaskFactory, catalogs: dict[str, list[dict[str, Any]]],
                     searches: dict[str, Search], label: str) -> list[Path]:
    """Top-level key histograms for sources whose partial epoch's salt the catalog round skipped."""
    ranges = {s: se.rng.spec(se.salt) for s, se in searches.items()}
    work = round_dir(root, "hist", ranges)
    specs = round_specs("hist", catalogs, ranges)
    mapper(factory.at(work), specs, label=f"{label} histogram", work=work)
    return [work / "hist" / f"{sp['part']}.parquet" for sp in specs]


def selection_dir(output) -> Any:
    """The mixture stage's selection folder under OUTPUT/_work, or None when it has not run."""
    found = sorted((output / "_work").glob("*-mixture/selection"))
    return found[-1] if found else None

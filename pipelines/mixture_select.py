"""The mixture's selection without corpus data on the driver: map -> small aggregate -> decide -> map.

1. `catalog` (one task per input part): reads `id`, `source`, `text`, writes the part's catalog
   (id, source, estimated tokens, chars) and sparse histograms of tokens over the top bits of
   `doc_key(seed, id, salt)` for the salts a partial epoch may use; its marker counts tokens and
   documents per source.
2. The driver plans from those counts (`plan_mixture`). A source with a partial epoch takes its
   documents in key order until the remaining tokens are reached: the summed histogram names the
   one bucket where that happens (a finer histogram of it, `hist`, while it holds more than
   `gather_limit` documents: only for sources of over ~10^8 documents with the defaults).
3. `select` (one task per part) writes `selection/PART.parquet`: the part's rows of every full
   epoch and of the partial one below that bucket; the bucket's rows (key, id, tokens, chars) go
   to `pending/PART.parquet`. The driver reads those (at most `gather_limit` rows a source),
   places the exact cut, a (key, id) pair, and writes the bucket's selected rows as
   `selection/~cut-SOURCE.parquet`.

The rows are exactly those of `mixture.select_epochs` over the whole catalog (same keys, same
token midpoint rule, ties by id), so no worker count or part order enters. Two map rounds in the
usual case (each costs Ray Data's fixed start-up, ~10 s on a loaded 2-core machine). The driver
holds per-source counts, one histogram of `2**bits` buckets a source, and the pending rows.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines import storage
from pipelines.parts import PARQUET_OPTS, PartStats, atomic_write_bytes, atomic_write_json
from pipelines.step import Resources

KEY_BITS = 64
HIST_SCHEMA = pa.schema([("source", pa.string()), ("salt", pa.int32()), ("bucket", pa.int64()),
                         ("tokens", pa.int64()), ("count", pa.int64())])
# Columns a catalog row carries through selection: `chars` for the mixture stage (the tokenizer's
# sample budget); `part` and `pstart` (index of the token part, first token's offset in it) for
# the shards stage, whose catalogs are the token parts' (exact counts, `kind: tokens`).
CARRY_TYPES = {"chars": pa.int64(), "part": pa.int32(), "pstart": pa.int64()}
MIXTURE_CARRY = ("chars",)
SHARDS_CARRY = ("part", "pstart")


def _carried(carry: tuple[str, ...]) -> list[tuple[str, pa.DataType]]:
    return [(c, CARRY_TYPES[c]) for c in carry]


def catalog_schema(carry: tuple[str, ...] = MIXTURE_CARRY) -> pa.Schema:
    return pa.schema([("id", pa.string()), ("source", pa.string()), ("tokens", pa.int64()), *_carried(carry)])


def selection_schema(carry: tuple[str, ...] = MIXTURE_CARRY) -> pa.Schema:
    return pa.schema([("id", pa.string()), ("source", pa.string()), ("epoch", pa.int32()), ("tokens", pa.int64()),
                      *_carried(carry)])


def pending_schema(carry: tuple[str, ...] = MIXTURE_CARRY) -> pa.Schema:
    return pa.schema([("source", pa.string()), ("key", pa.uint64()), ("id", pa.string()), ("tokens", pa.int64()),
                      *_carried(carry)])


PENDING_SCHEMA = pending_schema()
CATALOG_SCHEMA = catalog_schema()
SELECTION_SCHEMA = selection_schema()


def epoch_budget(want: float, avail: float) -> tuple[int, float | None]:
    """(full passes, tokens of the partial pass or None) for `want` tokens of a source that has
    `avail` tokens a pass: the arithmetic of `mixture.select_epochs`."""
    if want <= 0 or avail <= 0:
        return 0, None
    full = int(math.floor(want / avail + 1e-9))
    rest = want - full * avail
    return full, (rest if rest > 0.5 else None)


def table_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **PARQUET_OPTS)
    return sink.getvalue()


def _keys(seed: int, ids: list[str], salt: int) -> np.ndarray:
    from pipelines.mixture import doc_keys

    return doc_keys(seed, ids, salt)


@dataclass
class Range:
    """Keys in [lo, lo + 2**(shift + bits)), split into 2**bits buckets of 2**shift keys."""

    lo: int
    shift: int
    bits: int

    def mask(self, keys: np.ndarray) -> np.ndarray:
        hi = self.lo + (1 << (self.shift + self.bits))
        m = keys >= np.uint64(self.lo)
        if hi < 1 << KEY_BITS:
            m &= keys < np.uint64(hi)
        return m

    def buckets(self, keys: np.ndarray) -> np.ndarray:
        return ((keys - np.uint64(self.lo)) >> np.uint64(self.shift)).astype(np.int64)

    def spec(self, salt: int) -> list[int]:
        return [salt, self.lo, self.shift, self.bits]


def _histogram(source: str, salt: int, keys: np.ndarray, tokens: np.ndarray, rng: Range) -> pa.Table:
    """Sparse (source, salt, bucket, tokens, count) rows of the keys inside `rng`."""
    m = rng.mask(keys)
    b = rng.buckets(keys[m])
    n = 1 << rng.bits
    tok = np.bincount(b, weights=tokens[m].astype(np.float64), minlength=n).round().astype(np.int64)
    cnt = np.bincount(b, minlength=n).astype(np.int64)
    nz = np.flatnonzero(cnt)
    return pa.table({"source": pa.array([source] * len(nz), pa.string()), "salt": pa.array(np.full(len(nz), salt, np.int32)),
                     "bucket": nz.astype(np.int64), "tokens": tok[nz], "count": cnt[nz]}, schema=HIST_SCHEMA)


class MixturePartTask:
    """One part of one round (spec["round"]: catalog, hist or select). Each writes its
    output file, then `WORK/stats/PART.json` (the part's marker, as for every stage's parts)."""

    resources = Resources()

    def __init__(self, work: str, seed: int, bytes_per_token: float, bits: int, batch_rows: int = 4096,
                 carry: tuple[str, ...] = MIXTURE_CARRY):
        self.work, self.seed, self.bpt, self.bits, self.batch_rows = storage.location(work), seed, bytes_per_token, bits, batch_rows
        self.carry = tuple(carry)

    def setup(self) -> None:
        pass

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        stats = PartStats(part=spec["part"], source=spec.get("source", ""))
        getattr(self, "_" + spec["round"])(spec, stats)
        atomic_write_json(self.work / "stats" / f"{spec['part']}.json", stats.to_json())
        return stats.to_json()

    def _out(self, kind: str, spec: dict[str, Any]) -> Path:
        return self.work / kind / f"{spec['part']}.parquet"

    def _catalog(self, spec: dict[str, Any], stats: PartStats) -> None:
        if spec.get("kind") == "tokens":
            cat = self._token_catalog(spec, stats)
        else:
            cat = self._estimated_catalog(spec, stats)
        atomic_write_bytes(self._out("catalog", spec), table_bytes(cat))
        stats.docs_in = stats.docs_out = cat.num_rows
        stats.bytes_out = stats.bytes_in
        hists = []
        for source, ids, tokens in _by_source(cat):
            stats.counters[f"docs:{source}"] += len(ids)
            stats.counters[f"tokens:{source}"] += int(tokens.sum())
            for salt in spec["salts"].get(source, []):
                hists.append(_histogram(source, salt, _keys(self.seed, ids, salt), tokens,
                                        Range(0, KEY_BITS - self.bits, self.bits)))
        atomic_write_bytes(self._out("hist", spec), table_bytes(pa.concat_tables(hists) if hists else HIST_SCHEMA.empty_table()))

    def _token_catalog(self, spec: dict[str, Any], stats: PartStats) -> pa.Table:
        """A token part's catalog (exact counts, rows in the part's order) + `part`, `pstart`."""
        t = storage.read_table(spec["input"], columns=["id", "source", "tokens"])
        tok = t.column("tokens").to_numpy().astype(np.int64)
        stats.bytes_in = int(tok.sum())
        return pa.table({"id": t.column("id"), "source": t.column("source"), "tokens": tok,
                         "part": pa.array(np.full(t.num_rows, spec["index"], np.int32)),
                         "pstart": np.cumsum(tok) - tok}, schema=catalog_schema(self.carry))

    def _estimated_catalog(self, spec: dict[str, Any], stats: PartStats) -> pa.Table:
        tables = []
        for rb in storage.parquet_file(spec["input"]).iter_batches(batch_size=self.batch_rows, columns=["id", "source", "text"]):
            blen = pc.binary_length(rb.column(2)).to_numpy(zero_copy_only=False).astype(np.int64)
            stats.bytes_in += int(blen.sum())
            est = np.ceil(blen / self.bpt).astype(np.int64) + 1  # + the end-of-text token
            tables.append(pa.table({"id": rb.column(0), "source": rb.column(1).cast(pa.string()), "tokens": est,
                                    "chars": pc.utf8_length(rb.column(2)).cast(pa.int64())}, schema=CATALOG_SCHEMA))
        return pa.concat_tables(tables) if tables else CATALOG_SCHEMA.empty_table()

    def _hist(self, spec: dict[str, Any], stats: PartStats) -> None:
        hists = []
        for source, ids, tokens in _by_source(storage.read_table(spec["catalog"], columns=["id", "source", "tokens"])):
            if source in spec["ranges"]:
                salt, *rng = spec["ranges"][source]
                hists.append(_histogram(source, salt, _keys(self.seed, ids, salt), tokens, Range(*rng)))
        atomic_write_bytes(self._out("hist", spec), table_bytes(pa.concat_tables(hists) if hists else HIST_SCHEMA.empty_table()))

    def _select(self, spec: dict[str, Any], stats: PartStats) -> None:
        cat = storage.read_table(spec["catalog"])
        blocks, pending = [], []
        for source, plan in sorted(spec["plans"].items()):
            rows = cat.filter(pc.equal(cat.column("source"), source))
            rows = rows.take(pc.sort_indices(rows, [("id", "ascending")]))  # canonical: by id (code points)
            for e in range(plan["full"]):
                blocks.append((rows, e))
            if plan.get("cut") is None and plan.get("bucket") is None:
                continue
            ids = rows.column("id").to_pylist()
            keys = _keys(self.seed, ids, plan["salt"])
            if plan.get("cut") is not None:
                blocks.append((rows.filter(pa.array(below_cut(keys, ids, plan["cut"]))), plan["salt"]))
            else:  # every row below the bucket; the bucket's rows go to the driver, which places the cut
                rng = Range(*plan["bucket"])
                blocks.append((rows.filter(pa.array(keys < np.uint64(rng.lo))), plan["salt"]))
                m = rng.mask(keys)
                b = rows.filter(pa.array(m))
                pending.append(pa.table({"source": b.column("source"), "key": pa.array(keys[m], pa.uint64()),
                                         "id": b.column("id"), "tokens": b.column("tokens"),
                                         **{c: b.column(c) for c in self.carry}}, schema=pending_schema(self.carry)))
        schema = selection_schema(self.carry)
        out = [t.append_column("epoch", pa.array(np.full(t.num_rows, e, np.int32))).select(schema.names)
               for t, e in blocks]
        sel = pa.concat_tables(out).cast(schema) if out else schema.empty_table()
        atomic_write_bytes(storage.location(spec["selection"]) / f"{spec['part']}.parquet", table_bytes(sel))
        atomic_write_bytes(self._out("pending", spec), table_bytes(
            pa.concat_tables(pending) if pending else pending_schema(self.carry).empty_table()))
        stats.docs_in = stats.docs_out = sel.num_rows
        stats.counters["selected"] = sel.num_rows


def _by_source(cat: pa.Table):
    """(source, ids, tokens) per source of a catalog table (usually one: parts are per source)."""
    src = cat.column("source")
    for s in sorted(pc.unique(src).to_pylist()):
        t = cat.filter(pc.equal(src, s))
        yield s, t.column("id").to_pylist(), t.column("tokens").to_numpy().astype(np.int64)


def below_cut(keys: np.ndarray, ids: list[str], cut: list) -> np.ndarray:
    """Rows before the cut (key, id) in (key, id) order; id None: every key below `key`."""
    key, cut_id = int(cut[0]), cut[1]
    if key >= 1 << KEY_BITS:
        return np.ones(len(keys), bool)
    m = keys < np.uint64(key)
    if cut_id is not None:
        for i in np.flatnonzero(keys == np.uint64(key)):
            m[i] = ids[i] < cut_id
    return m


@dataclass
class TaskFactory:
    """Picklable: each actor builds its own task."""

    work: str
    seed: int
    bytes_per_token: float
    bits: int
    carry: tuple[str, ...] = MIXTURE_CARRY

    def __call__(self) -> MixturePartTask:
        return MixturePartTask(self.work, self.seed, self.bytes_per_token, self.bits, carry=self.carry)

    def at(self, work: Path | str) -> "TaskFactory":
        """The same task writing under another round's folder."""
        return replace(self, work=str(work))


@dataclass
class Search:
    """The driver's state for one source's partial epoch: find the first document (in key order)
    whose token midpoint reaches `rest`; `base` = tokens of the documents below `rng`."""

    source: str
    salt: int
    rest: float
    rng: Range
    base: int = 0
    cut: list | None = None  # [key, id or None] once known
    rounds: list[str] = field(default_factory=list)


def decide(search: Search, tok: np.ndarray, cnt: np.ndarray, bits: int, gather_limit: int) -> str:
    """Narrow `search` with the summed histogram of its range: 'done' (cut known), 'refine'
    (a finer histogram of one bucket is needed) or 'gather' (that bucket is small enough).
    A document is in when its midpoint (tokens before it + half its own) is below `rest`: every
    document of a bucket that ends at or below `rest` is in; none of one that starts at or above."""
    rng = search.rng
    cum = search.base + np.cumsum(tok)
    j = int(np.searchsorted(cum, search.rest, side="right"))  # the first bucket that ends past rest
    if j == len(cum):
        search.cut = [rng.lo + (len(cum) << rng.shift), None]
        return "done"
    before = int(cum[j - 1]) if j else search.base
    start = rng.lo + (j << rng.shift)
    if before >= search.rest:
        search.cut = [start, None]
        return "done"
    search.base = before
    if cnt[j] <= gather_limit or rng.shift == 0:
        search.rng = Range(start, rng.shift, 0)  # the bucket itself, its rows gathered by `select`
        return "gather"
    b = min(bits, rng.shift)
    search.rng = Range(start, rng.shift - b, b)
    return "refine"


def finish_bucket(search: Search, pending: pa.Table, schema: pa.Schema = SELECTION_SCHEMA) -> pa.Table:
    """Place the cut in the search's bucket from all its rows (`pending`, this source's) and
    return the rows before it as selection rows of the partial epoch."""
    search.cut = exact_cut(search, pending)
    keep = below_cut(pending.column("key").to_numpy(), pending.column("id").to_pylist(), search.cut)
    t = pending.filter(pa.array(keep))
    t = t.take(pc.sort_indices(t, [("id", "ascending")]))
    return t.append_column("epoch", pa.array(np.full(t.num_rows, search.salt, np.int32))).select(
        schema.names).cast(schema)


def exact_cut(search: Search, rows: pa.Table) -> list:
    """The cut from every (key, id, tokens) of the search's final bucket: the first document, in
    (key, id) order, whose midpoint is not below rest (`select_epochs`' searchsorted, left).
    Rows before the cut are in."""
    keys = rows.column("key").to_numpy()
    ids = rows.column("id").to_pylist()
    tokens = rows.column("tokens").to_numpy().astype(np.int64)
    order = np.array(sorted(range(len(ids)), key=lambda i: (int(keys[i]), ids[i])), dtype=np.int64)
    t = tokens[order] if len(order) else np.zeros(0, np.int64)
    mid = (search.base + np.cumsum(t)) - t / 2.0
    k = int(np.searchsorted(mid, search.rest, side="left"))
    if k == len(order):
        return [search.rng.lo + (1 << (search.rng.shift + search.rng.bits)), None]
    first_out = int(order[k])
    return [int(keys[first_out]), ids[first_out]]


def round_dir(work: Path, kind: str, payload: Any) -> Path:
    """A round's folder, named by what it computes (a rerun after a kill reuses its parts)."""
    h = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]
    return work / f"{kind}-{h}"


def summed_histograms(files: list[Path], searches: dict[str, Search]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(tokens, count) per bucket of each search's range, summed over parts one file at a time."""
    out = {s: (np.zeros(1 << se.rng.bits, np.int64), np.zeros(1 << se.rng.bits, np.int64)) for s, se in searches.items()}
    for f in files:
        t = storage.read_table(f)
        if not t.num_rows:
            continue
        for s, se in searches.items():
            sub = t.filter(pc.and_(pc.equal(t.column("source"), s), pc.equal(t.column("salt"), se.salt)))
            if sub.num_rows:
                b = sub.column("bucket").to_numpy()
                np.add.at(out[s][0], b, sub.column("tokens").to_numpy())
                np.add.at(out[s][1], b, sub.column("count").to_numpy())
    return out


def find_buckets(mapper, root: Path, factory: TaskFactory, catalogs: dict[str, list[dict[str, Any]]],
                 searches: dict[str, Search], hist_files: list[Path], gather_limit: int) -> dict[str, str]:
    """Narrow every search to its cut or to one bucket of at most `gather_limit` documents (state
    'gather'), with one histogram round per refinement for all sources at once (none unless a
    source has over ~`gather_limit` * 2**bits documents). `catalogs`: source -> catalog specs
    ({"part", "catalog", "size"}) of the parts holding it; `mapper(factory, specs, label=, work=)`
    runs a round (`ctx.map_parts` or the like), its folders go under `root`. Returns the state per
    source."""
    sums = summed_histograms(hist_files, searches)
    state = {s: decide(se, *sums[s], factory.bits, gather_limit) for s, se in searches.items()}
    while "refine" in state.values():
        active = {s: searches[s] for s, v in state.items() if v == "refine"}
        ranges = {s: se.rng.spec(se.salt) for s, se in active.items()}
        work = round_dir(root, "hist", ranges)
        specs = round_specs("hist", catalogs, ranges)
        mapper(factory.at(work), specs, label="mixture histogram", work=work)
        sums = summed_histograms([work / "hist" / f"{sp['part']}.parquet" for sp in specs], active)
        for s, se in active.items():
            se.rounds.append(work.name)
            state[s] = decide(se, *sums[s], factory.bits, gather_limit)
    return state


def round_specs(kind: str, catalogs: dict[str, list[dict[str, Any]]], ranges: dict[str, list[int]]) -> list[dict]:
    """One spec per part holding a source of `ranges`, with the ranges of its sources."""
    specs: dict[str, dict[str, Any]] = {}
    for s in sorted(ranges):
        for c in catalogs.get(s, []):
            specs.setdefault(c["part"], {"round": kind, "part": c["part"], "catalog": c["catalog"],
                                         "size": c.get("size", 0), "ranges": {}})["ranges"][s] = ranges[s]
    return [specs[p] for p in sorted(specs)]

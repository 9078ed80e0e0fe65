"""The shards stage: tokenize, correct the mixture with exact token counts, write shards on workers.

1. Every document of a source with weight > 0 is tokenized once, one part task per documents part
   (tokenizer loaded once per actor): `tokens/PART.arrow` and its catalog `catalog/PART.parquet`
   (id, source, tokens per document).
2. On the driver, from the catalogs only (never a token or a text): the exact token counts replace
   the mixture stage's estimate and the mixture is planned and selected again
   (`pipelines.mixture.plan_and_select`).
3. Documents are split train/val per source by a hash of (seed, id) with per-source floors
   (`shards.split`), so every source has validation documents and a document and its repeats stay
   on one side. Each split is ordered by `doc_key(seed, id, epoch)`, then source, then id (this
   shuffles sources and epochs together; Arrow's sort, UTF-8 byte order = code point order) and cut
   into shards of about `tokens_per_shard` tokens: a document belongs to the shard its first token
   falls in. A shard is a range of that order; nothing depends on the worker count.
   The train shards hold the mixture's repeats, so one pass over them is the planned mix; the
   manifest records the planned epochs per source and the validation split per source.
4. Workers write the shards: runs of consecutive shards (`plan/GROUP.parquet`: shard, token part,
   row) are part tasks; each gathers its documents' tokens from the memory-mapped token parts with
   numpy fancy indexing, writes each shard (sha256 and size computed while writing) into the
   staging folder and commits small per-shard records. The driver merges them into
   `manifest.json`, writes the exports, and the staging folder is renamed into place as a whole.
   A rerun after a kill keeps the groups already committed (their names are their shard ranges).
   A selection of at most `INLINE_TOKENS` tokens is written by the same task on the driver:
   starting actors would cost more than the work (memory stays bounded by one shard).

What the driver still holds is per-document metadata (id, source, token count, key) for the plan,
the val split and the order; never a token or a text.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines import storage
from pipelines.errors import ConfigError
from pipelines.mixture import doc_key, mixture_table, plan_and_select, source_settings
from pipelines.parts import PartStats, atomic_write_bytes, atomic_write_json
from pipelines.progress import log
from pipelines.stage import Stage, StageContext, StageResult
from pipelines.step import Resources
from shards.config import MAX_SHARD_TOKENS
from shards.export import write_exports
from shards.format import MANIFEST, Manifest, ShardInfo, sha256_file, shard_schema, token_dtype, tokens_array, write_shard
from shards.split import MAX_FLOOR_SHARE, short_warnings, val_split
from tokenizer.stage import map_small, tokenizer_path
from tokenizer.train import describe, load_tokenizer

SHARDS_DIR = "shards"
PLAN_SCHEMA = pa.schema([("shard", pa.int32()), ("part", pa.int32()), ("row", pa.int64())])
MAX_SHARDS_PER_TASK = 16
# Selections up to this many tokens are written by one task on the driver: on a loaded 2-core
# machine a round of actors costs ~3 CPU-s and ~10 s before it writes anything, writing 32M tokens
# (64 MB) ~1 CPU-s. Memory stays bounded by one shard either way.
INLINE_TOKENS = 32_000_000


class _TokenizeFactory:
    """Picklable: each actor builds its own task (and loads the tokenizer once there)."""

    def __init__(self, tokenizer_file: str, work: Path, batch_rows: int):
        self.args = (tokenizer_file, work, batch_rows)

    def __call__(self):
        from tokenizer.encode import TokenizePartTask

        return TokenizePartTask(*self.args)


class PartTokens:
    """One memory-mapped token part: per row its record batch, first token and length."""

    def __init__(self, path: Path):
        reader = pa.ipc.open_file(storage.open_arrow(path))  # memory-mapped when local
        self.values, chunk, start, lens, ids, sources = [], [], [], [], [], []
        for b in range(reader.num_record_batches):
            rb = reader.get_batch(b)
            arr = rb.column(2)
            off = arr.offsets.to_numpy().astype(np.int64)
            self.values.append(arr.values.to_numpy(zero_copy_only=True))
            chunk.append(np.full(rb.num_rows, b, np.int32))
            start.append(off[:-1])
            lens.append(np.diff(off))
            ids.append(rb.column(0))
            sources.append(rb.column(1))
        self.chunk = np.concatenate(chunk) if chunk else np.zeros(0, np.int32)
        self.start = np.concatenate(start) if start else np.zeros(0, np.int64)
        self.lens = np.concatenate(lens) if lens else np.zeros(0, np.int64)
        self.ids = pa.chunked_array(ids, pa.string())
        self.sources = pa.chunked_array(sources, pa.string())

    def gather_into(self, out: np.ndarray, dst_start: np.ndarray, rows: np.ndarray) -> None:
        """Copy the tokens of `rows` to `out[dst_start[i]:]`, one vectorised copy per record batch."""
        chunks = self.chunk[rows]
        order = np.argsort(chunks, kind="stable")
        bounds = np.flatnonzero(np.diff(chunks[order])) + 1
        for group in np.split(order, bounds):
            if not len(group):
                continue
            glen = self.lens[rows[group]]
            within = np.arange(int(glen.sum())) - np.repeat(np.cumsum(glen) - glen, glen)
            src = np.repeat(self.start[rows[group]], glen) + within
            dst = np.repeat(dst_start[group], glen) + within
            out[dst] = self.values[int(chunks[group[0]])][src]


class ShardWriteTask:
    """Part task: spec = {"part": GROUP, "plan": PATH, "split", "prefix"} -> the group's shards in
    `staging/`, their records in `write/records/GROUP.json`, then the marker `write/stats/GROUP.json`.
    Token parts are opened (memory-mapped) once per actor and kept."""

    def __init__(self, token_files: list[str], staging: str, work: str, vocab: int, meta: dict[str, Any]):
        self.token_files, self.staging, self.work = token_files, storage.location(staging), storage.location(work)
        self.vocab, self.meta = vocab, meta
        self.dtype = token_dtype(vocab)
        self.resources = Resources()
        self.parts: dict[int, PartTokens] = {}

    def setup(self) -> None:
        pass

    def _part(self, k: int) -> PartTokens:
        if k not in self.parts:
            self.parts[k] = PartTokens(storage.location(self.token_files[k]))
        return self.parts[k]

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        import time

        t0 = time.perf_counter()
        plan = storage.read_table(spec["plan"])
        shard_col = plan.column("shard").to_numpy()
        part_col = plan.column("part").to_numpy()
        row_col = plan.column("row").to_numpy()
        schema = shard_schema(self.vocab, {**self.meta, "split": spec["split"]})
        records, stats = [], PartStats(part=spec["part"])
        for lo, hi in _runs(shard_col):
            info = self._write_one(f"{spec['prefix']}-{int(shard_col[lo]):05d}.arrow", spec["split"], schema,
                                   part_col[lo:hi], row_col[lo:hi])
            records.append(info.__dict__)
            stats.docs_in += info.documents
            stats.counters["tokens"] += info.tokens
            stats.bytes_out += info.bytes
        stats.docs_out = stats.docs_in
        atomic_write_json(self.work / "records" / f"{spec['part']}.json", records)
        stats.seconds = time.perf_counter() - t0
        atomic_write_json(self.work / "stats" / f"{spec['part']}.json", stats.to_json())
        return stats.to_json()

    def _write_one(self, name: str, split: str, schema: pa.Schema, parts: np.ndarray, rows: np.ndarray) -> ShardInfo:
        lens = np.zeros(len(rows), np.int64)
        groups = _groups(parts)
        for k, pos in groups:
            lens[pos] = self._part(k).lens[rows[pos]]
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(lens, out=offsets[1:])
        flat = np.empty(int(offsets[-1]), dtype=self.dtype)
        ids, sources, where = [], [], []
        for k, pos in groups:
            p = self._part(k)
            p.gather_into(flat, offsets[pos], rows[pos])
            take = pa.array(rows[pos])
            ids.append(p.ids.take(take))
            sources.append(p.sources.take(take))
            where.append(pos)
        if where:  # back to plan order
            inv = np.empty(len(rows), np.int64)
            inv[np.concatenate(where)] = np.arange(len(rows))
            ids_arr = pa.chunked_array(ids).combine_chunks().take(pa.array(inv))
            src_arr = pa.chunked_array(sources).combine_chunks().take(pa.array(inv))
        else:
            ids_arr, src_arr = pa.array([], pa.string()), pa.array([], pa.string())
        sha, nbytes = write_shard(self.staging / name, ids_arr, src_arr, tokens_array(flat, offsets, self.vocab), schema)
        by = pa.table({"source": src_arr, "n": lens}).group_by("source", use_threads=False).aggregate(
            [("n", "sum"), ("n", "count")])
        srcs = by.column("source").to_pylist()
        order = sorted(range(len(srcs)), key=srcs.__getitem__)
        tok_by = by.column("n_sum").to_pylist()
        doc_by = by.column("n_count").to_pylist()
        return ShardInfo(file=name, split=split, sha256=sha, tokens=int(offsets[-1]), documents=len(rows), bytes=nbytes,
                         tokens_by_source={srcs[i]: int(tok_by[i]) for i in order},
                         documents_by_source={srcs[i]: int(doc_by[i]) for i in order})


class _WriteFactory:
    def __init__(self, *args):
        self.args = args

    def __call__(self) -> ShardWriteTask:
        return ShardWriteTask(*self.args)


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """[lo, hi) of each run of equal consecutive values."""
    if not len(values):
        return []
    b = np.concatenate([[0], np.flatnonzero(np.diff(values)) + 1, [len(values)]])
    return list(zip(b[:-1].tolist(), b[1:].tolist()))


def _groups(keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(key, positions) for each distinct key."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    return [(int(sk[lo]), order[lo:hi]) for lo, hi in _runs(sk)]


def load_catalog(work: Path, parts: list[str]) -> pa.Table:
    """(id, source, tokens, part, prow) of every tokenized document: the token parts' catalogs, in
    part order; `part` indexes `parts`, `prow` is the row in that token part."""
    tables = []
    for k, name in enumerate(parts):
        t = storage.read_table(work / "catalog" / f"{name}.parquet")
        tables.append(t.append_column("part", pa.array(np.full(t.num_rows, k, np.int32)))
                      .append_column("prow", pa.array(np.arange(t.num_rows, dtype=np.int64))))
    if not tables:
        return pa.table({"id": pa.array([], pa.string()), "source": pa.array([], pa.string()),
                         "tokens": pa.array([], pa.int64()), "part": pa.array([], pa.int32()),
                         "prow": pa.array([], pa.int64())})
    return pa.concat_tables(tables).combine_chunks()


def assign_shards(tokens: np.ndarray, per_shard: int) -> np.ndarray:
    """Shard index of each document (in canonical order): the shard its first token falls in.
    A shard over 2^31-1 tokens (int32 offsets; its last document can overrun `per_shard`) is a
    config error, raised before anything is written."""
    starts = np.cumsum(tokens) - tokens
    shard_of = (starts // per_shard).astype(np.int64)
    sizes = np.bincount(shard_of, weights=tokens) if len(tokens) else np.zeros(0)
    if len(sizes) and sizes.max() > MAX_SHARD_TOKENS:
        k = int(sizes.argmax())
        raise ConfigError(f"shards.tokens_per_shard: shard {k} would hold {int(sizes[k]):,} tokens, over 2^31-1 "
                          f"(int32 offsets); lower tokens_per_shard below {per_shard:,}")
    return shard_of


def canonical_order(keys: np.ndarray, sources: pa.Array, ids: pa.Array) -> np.ndarray:
    """Row order by (key, source, id): Arrow's sort (strings by UTF-8 bytes = by code points), so
    even a 64-bit key collision orders the same way every time."""
    t = pa.table({"key": pa.array(keys, pa.uint64()), "source": sources, "id": ids})
    return pc.sort_indices(t, [("key", "ascending"), ("source", "ascending"), ("id", "ascending")]).to_numpy()


class ShardStage(Stage):
    name = "shards"
    published = ("shards",)  # under output; its files are in the stage marker
    config_keys = ("shards", "tokenizer", "mixture", "sources")
    documents = False
    inline_tokens = INLINE_TOKENS

    def run(self, ctx: StageContext) -> StageResult:
        cfg = ctx.cfg
        scfg = cfg.shards
        tok_file = tokenizer_path(cfg, ctx.output, ctx.base_dir)
        tok = load_tokenizer(tok_file)
        tinfo = describe(tok)
        vocab, eot = tinfo["vocab_size"], tinfo["eot_id"]
        dtype = token_dtype(vocab)
        tok_sha = sha256_file(tok_file)

        # 1. tokenize every document of a weighted source once
        weights, _ = source_settings(cfg)
        wanted = {s for s, w in weights.items() if w > 0 or not cfg.mixture.enabled}
        specs = [s for s in ctx.input_specs() if s["source"] in wanted]
        factory = _TokenizeFactory(str(tok_file), ctx.work, scfg.batch_rows)
        parts = ctx.map_parts(factory, specs, label="tokenize", unit="docs")
        names = sorted(s["part"] for s in specs)
        catalog = load_catalog(ctx.work, names)

        # 2. the mixture again, with exact token counts
        plans, warnings, sel = plan_and_select(cfg, catalog)
        del catalog
        for w in warnings:
            log(f"[yellow]warning: {w}")
        epochs = sel.column("epoch").to_numpy()
        ids = sel.column("id").to_pylist()
        srcs = sel.column("source").to_pylist()
        keys = np.fromiter((doc_key(cfg.seed, i, int(e)) for i, e in zip(ids, epochs)), np.uint64, count=len(ids))
        sel_tokens = sel.column("tokens").to_numpy()
        is_val, val_stats = val_split(cfg.seed, ids, srcs, sel_tokens, scfg.val_fraction,
                                      scfg.val_min_documents, scfg.val_min_tokens)
        del ids, srcs
        short = short_warnings(val_stats, scfg.val_min_documents, scfg.val_min_tokens)
        for w in short:
            log(f"[yellow]warning: {w}")
        warnings = warnings + short

        # 3. canonical order and shard cuts (checked before anything is written), as plans for workers
        sel_part = sel.column("part").to_numpy()
        sel_row = sel.column("prow").to_numpy()
        cuts = []
        for split, mask in (("train", ~is_val), ("val", is_val)):
            idx = np.flatnonzero(mask)
            idx = idx[canonical_order(keys[idx], sel.column("source").take(idx), sel.column("id").take(idx))]
            cuts.append((split, idx, assign_shards(sel_tokens[idx], scfg.tokens_per_shard)))
        n_shards = sum(int(shard_of[-1]) + 1 for _, _, shard_of in cuts if len(shard_of))
        workers = ctx.workers or os.cpu_count() or 1
        per_task = max(1, min(MAX_SHARDS_PER_TASK, math.ceil(n_shards / (4 * workers))))
        write_specs = []
        for split, idx, shard_of in cuts:
            prefix = "shard" if split == "train" else "val"
            for first in range(0, int(shard_of[-1]) + 1 if len(shard_of) else 0, per_task):
                last = first + per_task - 1
                lo, hi = np.searchsorted(shard_of, [first, last + 1])
                group = f"{prefix}-{first:05d}-{min(last, int(shard_of[-1])):05d}"
                plan = pa.table({"shard": pa.array(shard_of[lo:hi], pa.int32()), "part": pa.array(sel_part[idx[lo:hi]]),
                                 "row": pa.array(sel_row[idx[lo:hi]])}, schema=PLAN_SCHEMA)
                sink = pa.BufferOutputStream()
                pq.write_table(plan, sink, compression="zstd")
                path = ctx.work / "plan" / f"{group}.parquet"
                atomic_write_bytes(path, sink.getvalue().to_pybytes())
                write_specs.append({"part": group, "plan": str(path), "split": split, "prefix": prefix,
                                    "size": int(sel_tokens[idx[lo:hi]].sum())})

        # 4. workers write the shards into the staging folder; the driver merges their records
        staging = ctx.work / "staging"
        write_work = ctx.work / "write"
        if not storage.exists(staging):  # a rerun after the staging folder was published (renamed): write again
            storage.remove_tree(write_work)
        storage.ensure_dir(staging)
        meta = {"dtype": dtype.name, "vocab_size": vocab, "eot_id": eot, "tokenizer_sha256": tok_sha,
                "config_hash": ctx.stage_hash}
        wfactory = _WriteFactory([str(ctx.work / "tokens" / f"{n}.arrow") for n in names], str(staging),
                                 str(write_work), vocab, meta)
        inline = int(sel_tokens.sum()) <= self.inline_tokens
        map_small(ctx, wfactory, write_specs, label="write shards", work=write_work, inline=inline)
        infos = [ShardInfo(**r) for sp in write_specs
                 for r in storage.read_json(write_work / "records" / f"{sp['part']}.json")]
        realized: Counter = Counter()
        for info in infos:
            realized.update(info.tokens_by_source)
        src_col = sel.column("source")
        table = mixture_table(plans, dict(realized), unique_docs={
            s: int(pc.count_distinct(sel.filter(pc.equal(src_col, s)).column("id")).as_py()) for s in plans})
        storage.commit_bytes(staging / "tokenizer.json", storage.location(tok_file).read_bytes())  # self-contained (a copy, not a link)
        manifest = Manifest(dtype=dtype.name, vocab_size=vocab, eot_id=eot, tokenizer_sha256=tok_sha,
                            tokenizer_path="tokenizer.json", config_hash=ctx.stage_hash, seed=cfg.seed, shards=infos)
        exports = write_exports(staging, manifest, scfg.exports)
        manifest.extra = {"mixture": table, "warnings": warnings, "tokenizer": tinfo, "exports": exports,
                          "target_tokens": cfg.mixture.target_tokens if cfg.mixture.enabled else None,
                          "val_fraction": scfg.val_fraction, "tokens_per_shard": scfg.tokens_per_shard,
                          # the repeats are in the train shards: one pass over them is this plan
                          "planned_epochs": {r["source"]: r["epochs"] for r in table},
                          "val": {"rule": {"fraction": scfg.val_fraction, "min_documents": scfg.val_min_documents,
                                           "min_tokens": scfg.val_min_tokens, "max_floor_share": MAX_FLOOR_SHARE,
                                           "stratified_by": "source"},
                                  "by_source": val_stats}}
        manifest.save(staging)
        storage.publish_folder(staging, ctx.output / SHARDS_DIR, last=MANIFEST)

        totals = manifest.totals()
        docs = sum(t["documents"] for t in totals.values())
        tokenized = PartStats()
        for p in parts:
            tokenized.merge(p)
        stats = PartStats(docs_in=docs, docs_out=docs, bytes_in=tokenized.bytes_in,
                          counters=Counter(tokens=sum(t["tokens"] for t in totals.values()),
                                           tokenized_documents=tokenized.docs_in,
                                           tokenized_tokens=tokenized.counters["tokens"]))
        extra = {"mixture": table, "warnings": warnings, "totals": totals, "shards": len(infos),
                 "dtype": dtype.name, "vocab_size": vocab, "tokenizer_sha256": tok_sha, "exports": exports,
                 "write_tasks": len(write_specs)}
        return StageResult(stats=stats, extra=extra)

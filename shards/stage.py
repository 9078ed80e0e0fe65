"""The shards stage: tokenize, correct the mixture with exact token counts, write shards.

1. Every document of a source with weight > 0 is tokenized once, one part task per documents part
   on a Ray actor pool (tokenizer loaded once per actor): `_work/NN-shards/tokens/PART.arrow`.
2. On the driver: the exact token count of every document (list lengths, read from the memory-
   mapped token parts) replaces the mixture stage's estimate, and the mixture is planned and
   selected again (`pipelines.mixture.plan_and_select`).
3. Documents are split train/val per source by a hash of (seed, id) with per-source floors
   (`shards.split`), so every source has validation documents and a document and its repeats stay
   on one side. Each split is ordered by `doc_key(seed, id, epoch)` (this shuffles sources and epochs
   together) and cut into shards of about `tokens_per_shard` tokens: a document belongs to the
   shard its first token falls in. Nothing depends on the worker count.
   The train shards hold the mixture's repeats, so one pass over them is the planned mix; the
   manifest records the planned epochs per source and the validation split per source.
4. Shards are gathered from the token parts with numpy fancy indexing (no per-document Python
   loop), written with `shards.format`, checksummed into `manifest.json`, exported, and the
   folder is renamed into place as a whole.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.errors import ConfigError
from pipelines.mixture import doc_key, mixture_table, plan_and_select, source_settings
from pipelines.parts import PartStats
from pipelines.progress import log
from pipelines.stage import Stage, StageContext, StageResult
from shards.config import MAX_SHARD_TOKENS
from shards.export import write_exports
from shards.format import Manifest, ShardInfo, sha256_file, shard_schema, token_dtype, tokens_array, write_shard
from shards.split import MAX_FLOOR_SHARE, short_warnings, val_split
from tokenizer.stage import tokenizer_path
from tokenizer.train import describe, load_tokenizer

SHARDS_DIR = "shards"


class _TokenizeFactory:
    """Picklable: each actor builds its own task (and loads the tokenizer once there)."""

    def __init__(self, tokenizer_file: str, work: Path, batch_rows: int):
        self.args = (tokenizer_file, work, batch_rows)

    def __call__(self):
        from tokenizer.encode import TokenizePartTask

        return TokenizePartTask(*self.args)


class TokenStore:
    """The memory-mapped token parts: one segment per record batch, addressed by (segment, row)."""

    def __init__(self, files: list[Path]):
        self.values: list[np.ndarray] = []
        ids, sources, seg, row, start, ntok = [], [], [], [], [], []
        for f in files:
            reader = pa.ipc.open_file(pa.memory_map(str(f), "r"))
            for b in range(reader.num_record_batches):
                rb = reader.get_batch(b)
                arr = rb.column(2)
                off = arr.offsets.to_numpy().astype(np.int64)
                self.values.append(arr.values.to_numpy(zero_copy_only=True))
                n = rb.num_rows
                ids.append(rb.column(0))
                sources.append(rb.column(1))
                seg.append(np.full(n, len(self.values) - 1, np.int32))
                row.append(np.arange(n, dtype=np.int64))
                start.append(off[:-1])
                ntok.append(np.diff(off))
        self.catalog = pa.table({
            "id": pa.chunked_array(ids, pa.string()), "source": pa.chunked_array(sources, pa.string()),
            "tokens": pa.array(np.concatenate(ntok) if ntok else np.zeros(0, np.int64)),
        }).combine_chunks()
        self.seg = np.concatenate(seg) if seg else np.zeros(0, np.int32)
        self.start = np.concatenate(start) if start else np.zeros(0, np.int64)

    def gather(self, rows: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """(flat tokens, offsets) of catalog `rows`, in that order, with vectorized copies per segment."""
        lens = self.catalog.column("tokens").to_numpy()[rows]
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(lens, out=offsets[1:])
        out = np.empty(int(offsets[-1]), dtype=dtype)
        segs = self.seg[rows]
        order = np.argsort(segs, kind="stable")
        bounds = np.flatnonzero(np.diff(segs[order])) + 1
        for group in np.split(order, bounds):
            if not len(group):
                continue
            glen = lens[group]
            within = np.arange(int(glen.sum())) - np.repeat(np.cumsum(glen) - glen, glen)
            src = np.repeat(self.start[rows[group]], glen) + within
            dst = np.repeat(offsets[group], glen) + within
            out[dst] = self.values[int(segs[group[0]])][src]
        return out, offsets


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


class ShardStage(Stage):
    name = "shards"
    config_keys = ("shards", "tokenizer", "mixture", "sources")
    documents = False

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
        store = TokenStore([ctx.work / "tokens" / f"{s['part']}.arrow" for s in sorted(specs, key=lambda s: s["part"])])

        # 2. the mixture again, with exact token counts
        plans, warnings, sel = plan_and_select(cfg, store.catalog)
        for w in warnings:
            log(f"[yellow]warning: {w}")
        rows = sel.column("row").to_numpy()
        epochs = sel.column("epoch").to_numpy()
        ids = sel.column("id").to_pylist()
        srcs = sel.column("source").to_pylist()
        keys = np.fromiter((doc_key(cfg.seed, i, int(e)) for i, e in zip(ids, epochs)), np.uint64, count=len(ids))
        sel_tokens = store.catalog.column("tokens").to_numpy()[rows] if len(rows) else np.zeros(0, np.int64)
        is_val, val_stats = val_split(cfg.seed, ids, srcs, sel_tokens, scfg.val_fraction,
                                      scfg.val_min_documents, scfg.val_min_tokens)
        short = short_warnings(val_stats, scfg.val_min_documents, scfg.val_min_tokens)
        for w in short:
            log(f"[yellow]warning: {w}")
        warnings = warnings + short

        # 3. canonical order and shard cuts (checked before anything is written)
        cuts = []
        for split, mask in (("train", ~is_val), ("val", is_val)):
            idx = np.flatnonzero(mask)
            # key, then (source, id) so even a 64-bit key collision orders the same way every time
            order = sorted(idx.tolist(), key=lambda i: (int(keys[i]), srcs[i], ids[i]))
            idx = np.array(order, dtype=np.int64)
            cuts.append((split, idx, assign_shards(sel_tokens[idx], scfg.tokens_per_shard)))

        # 4. gather + write, into a temporary folder
        tmp = ctx.output / f".{SHARDS_DIR}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        meta = {"dtype": dtype.name, "vocab_size": vocab, "eot_id": eot, "tokenizer_sha256": tok_sha,
                "config_hash": ctx.stage_hash}
        infos: list[ShardInfo] = []
        realized: Counter = Counter()
        for split, idx, shard_of in cuts:
            prefix = "shard" if split == "train" else "val"
            for k, group in enumerate(np.split(idx, np.flatnonzero(np.diff(shard_of)) + 1) if len(idx) else []):
                info = self._write(tmp / f"{prefix}-{k:05d}.arrow", split, store, sel, rows[group], group, vocab,
                                   dtype, {**meta, "split": split})
                infos.append(info)
                realized.update(info.tokens_by_source)
        table = mixture_table(plans, dict(realized), unique_docs={
            s: int(pc.count_distinct(sel.filter(pc.equal(sel.column("source"), s)).column("id")).as_py()) for s in plans})
        shutil.copyfile(tok_file, tmp / "tokenizer.json")  # the shard folder is self-contained
        manifest = Manifest(dtype=dtype.name, vocab_size=vocab, eot_id=eot, tokenizer_sha256=tok_sha,
                            tokenizer_path="tokenizer.json", config_hash=ctx.stage_hash, seed=cfg.seed, shards=infos)
        exports = write_exports(tmp, manifest, scfg.exports)
        manifest.extra = {"mixture": table, "warnings": warnings, "tokenizer": tinfo, "exports": exports,
                          "target_tokens": cfg.mixture.target_tokens if cfg.mixture.enabled else None,
                          "val_fraction": scfg.val_fraction, "tokens_per_shard": scfg.tokens_per_shard,
                          # the repeats are in the train shards: one pass over them is this plan
                          "planned_epochs": {r["source"]: r["epochs"] for r in table},
                          "val": {"rule": {"fraction": scfg.val_fraction, "min_documents": scfg.val_min_documents,
                                           "min_tokens": scfg.val_min_tokens, "max_floor_share": MAX_FLOOR_SHARE,
                                           "stratified_by": "source"},
                                  "by_source": val_stats}}
        manifest.save(tmp)
        final = ctx.output / SHARDS_DIR
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)

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
                 "dtype": dtype.name, "vocab_size": vocab, "tokenizer_sha256": tok_sha, "exports": exports}
        return StageResult(stats=stats, extra=extra)

    @staticmethod
    def _write(path: Path, split: str, store: TokenStore, sel: pa.Table, cat_rows: np.ndarray, sel_rows: np.ndarray,
               vocab: int, dtype: np.dtype, meta: dict[str, Any]) -> ShardInfo:
        flat, offsets = store.gather(cat_rows, dtype)
        ids = sel.column("id").take(sel_rows).to_pylist()
        sources = sel.column("source").take(sel_rows).to_pylist()
        write_shard(path, ids, sources, tokens_array(flat, offsets, vocab), shard_schema(vocab, meta))
        lens = np.diff(offsets)
        tok_by, doc_by = Counter(), Counter()
        for s, n in zip(sources, lens.tolist()):
            tok_by[s] += n
            doc_by[s] += 1
        return ShardInfo(file=path.name, split=split, sha256=sha256_file(path), tokens=int(offsets[-1]),
                         documents=len(ids), bytes=path.stat().st_size,
                         tokens_by_source=dict(sorted(tok_by.items())), documents_by_source=dict(sorted(doc_by.items())))

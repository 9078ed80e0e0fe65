"""The shards stage: tokenize, correct the mixture with exact token counts, write shards on workers.

Every global step is map -> small aggregate -> decide on the driver -> map; the driver never holds
a row per document (the measured figures: benchmarks/bench_scaling.py).

1. `tokenize` (one part task per documents part, tokenizer loaded once per worker):
   `tokens/PART.arrow` and its catalog `catalog/PART.parquet` (id, source, tokens per document).
2. The mixture again, with exact counts (`pipelines.mixture.select_mixture` over the catalogs, as
   the mixture stage does over estimates): per-part counts and key histograms, the driver places
   each partial epoch's cut, workers write `mix/selection/PART.parquet` (id, source, epoch, tokens,
   and where the tokens are: token part, first token in it). Row for row `plan_and_select`'s.
3. The train/val split per source (`shards.split.decide_val`): `vscan` tasks return counts and
   histograms of the split's hash; the driver turns them into one cut per source (a gathered
   bucket only where a floor ends), workers apply it. `val_split`'s split.
4. The canonical order (key = `doc_key(seed, id, epoch)`, then source, then id; per split) and
   the shard cuts, a distributed sort (`shards.order`): `scatter` by split and key range (B = a few
   key ranges per worker, and about `BUCKET_ROWS` rows a range at most; one file per task), the
   driver sums each range's tokens into its first token, `bucket` tasks sort their range and cut
   it into shards (a document belongs to the shard its first token falls in), returning tokens
   and documents per shard. So every shard's size,
   first token and first document are known, and checked against int32 offsets, before any is
   written. Nothing depends on B or the worker count.
5. Writers (groups of consecutive shards) read their shards' rows, gather the tokens from the token
   parts by offset (memory-mapped on a local disk; on an object store the tokens were gathered
   once by the scatter tasks and travel with the sorted rows, shards/gather.py), write each shard into the staging folder (sha256 and size computed while
   writing) and its export pieces (shards/export.py), and commit small per-shard records;
   `assemble` tasks stream the split-wide export files together, through the storage layer (local
   or object store alike). The driver merges the records into `manifest.json`; the staging folder
   is published as a whole. The train shards hold the mixture's repeats, so one pass over them is
   the planned mix; the manifest records the planned epochs and the val split per source.

Each round's tasks commit a marker after their outputs, in folders named by the decisions they
apply, so a rerun after a kill redoes only what is missing and writes the same bytes. When the
selection is bounded by `INLINE_TOKENS` (tokenized tokens x the epochs cap), every round after
tokenizing runs here on the driver, one task after the other (no faster on workers at that size;
what the driver holds stays bounded by that bound).
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

from pipelines import storage
from pipelines.errors import ConfigError
from pipelines.mixture import GATHER_LIMIT, mixture_table, select_mixture, source_settings
from pipelines.mixture_select import SHARDS_CARRY, TaskFactory, round_dir
from pipelines.parts import PartStats, atomic_write_json
from pipelines.progress import log
from pipelines.stage import Stage, StageContext, StageResult, merge_parts
from pipelines.step import Resources
from shards.config import MAX_SHARD_TOKENS
from shards.export import Exports, finish_exports, split_files, write_shard_exports
from shards.format import MANIFEST, Manifest, ShardInfo, sha256_file, shard_schema, token_dtype, tokens_array, write_shard
from shards.gather import TokenParts, carried_tokens, gather_tokens
from shards.order import DEST_SCHEMA, SPLITS, TOKS, dest_offsets, shard_rows, summed
from shards.plan import RoundFactory, mapper
from shards.split import GATHER_SCHEMA, MAX_FLOOR_SHARE, VHIST_SCHEMA, decide_val, hash_limit, short_warnings
from tokenizer.stage import tokenizer_path
from tokenizer.train import describe, load_tokenizer

SHARDS_DIR = "shards"
MAX_SHARDS_PER_TASK = 16
MIX_HIST_BITS = 10
BUCKETS_PER_WORKER = 4  # key ranges of the sort: a few per worker, so a slow one is not the whole round
BUCKET_ROWS = 1_000_000  # and about this many selection rows a range at most: a sort task's memory does not grow with the corpus
BUCKET_TOKEN_BYTES = 256 << 20  # and, when the sort carries the tokens, about this many bytes of them
# Selections up to this many tokens (tokenized tokens x the epochs cap) run every round here on the
# driver, one task after the other, which bounds what the driver holds then. Rounds of plain tasks
# cost about the same (measured, the whole shards stage with 2 workers: 1.58 s here vs 1.49 s on
# workers for a 300k-token selection of 4 sources with repeats and val floors; 2.18 vs 2.56 s for the
# demo), so the bound is kept small: at 4x bench_scaling's --docs corpus (200k documents, 2.8M
# tokens x 4 epochs, under the former 32M bound) the driver rose 54 MiB running it here.
INLINE_TOKENS = 4_000_000


class _TokenizeFactory:
    """Picklable: each actor builds its own task (and loads the tokenizer once there)."""

    def __init__(self, tokenizer_file: str, work: Path, batch_rows: int):
        self.args = (tokenizer_file, work, batch_rows)

    def __call__(self):
        from tokenizer.encode import TokenizePartTask

        return TokenizePartTask(*self.args)


class ShardWriteTask:
    """Part task: spec = {"part": GROUP, "split", "prefix", "shards": [(k, first token, first
    document, [sorted-row files])...]} -> the group's shards in `staging/` (and their export pieces),
    their records in `write/records/GROUP.json`, then the marker `write/stats/GROUP.json`.
    Token parts are opened once per task and kept."""

    def __init__(self, token_files: list[str], staging: str, work: str, vocab: int, meta: dict[str, Any],
                 exports: Exports | None):
        self.token_files, self.staging, self.work = token_files, storage.location(staging), storage.location(work)
        self.vocab, self.meta, self.exports = vocab, meta, exports
        self.dtype = token_dtype(vocab)
        self.resources = Resources()
        self.parts = TokenParts(token_files)

    def setup(self) -> None:
        pass

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        import time

        t0 = time.perf_counter()
        schema = shard_schema(self.vocab, {**self.meta, "split": spec["split"]})
        records, stats = [], PartStats(part=spec["part"])
        for k, first_token, first_doc, files in spec["shards"]:
            rows = shard_rows(files, k)
            info, flat, lens = self._write_one(f"{spec['prefix']}-{k:05d}.arrow", spec["split"], schema, rows)
            if self.exports is not None:
                write_shard_exports(self.exports, self.staging, self.work / "pieces", info, k, flat, lens,
                                    first_token, first_doc)
            records.append(info.__dict__)
            stats.docs_in += info.documents
            stats.counters["tokens"] += info.tokens
            stats.bytes_out += info.bytes
        stats.docs_out = stats.docs_in
        atomic_write_json(self.work / "records" / f"{spec['part']}.json", records)
        stats.seconds = time.perf_counter() - t0
        atomic_write_json(self.work / "stats" / f"{spec['part']}.json", stats.to_json())
        return stats.to_json()

    def _write_one(self, name: str, split: str, schema: pa.Schema, rows: pa.Table) -> tuple[ShardInfo, np.ndarray, np.ndarray]:
        if TOKS in rows.column_names:  # the tokens came with the sorted rows (shards/gather.py)
            flat, offsets = carried_tokens(rows, self.dtype)
        else:
            flat, offsets = gather_tokens(self.parts, rows, self.dtype)
        lens = np.diff(offsets)
        src_arr = rows.column("source").combine_chunks()
        sha, nbytes = write_shard(self.staging / name, rows.column("id"), src_arr, tokens_array(flat, offsets, self.vocab), schema)
        by = pa.table({"source": src_arr, "n": lens}).group_by("source", use_threads=False).aggregate(
            [("n", "sum"), ("n", "count")])
        srcs = by.column("source").to_pylist()
        order = sorted(range(len(srcs)), key=srcs.__getitem__)
        tok_by = by.column("n_sum").to_pylist()
        doc_by = by.column("n_count").to_pylist()
        info = ShardInfo(file=name, split=split, sha256=sha, tokens=int(offsets[-1]), documents=len(lens), bytes=nbytes,
                         tokens_by_source={srcs[i]: int(tok_by[i]) for i in order},
                         documents_by_source={srcs[i]: int(doc_by[i]) for i in order})
        return info, flat, lens


class _WriteFactory:
    def __init__(self, *args):
        self.args = args

    def __call__(self) -> ShardWriteTask:
        return ShardWriteTask(*self.args)


def check_shard_sizes(sizes: np.ndarray, per_shard: int) -> None:
    """A shard over 2^31-1 tokens (int32 offsets; its last document can overrun `per_shard`) is a
    config error, raised before anything is written."""
    if len(sizes) and sizes.max() > MAX_SHARD_TOKENS:
        k = int(sizes.argmax())
        raise ConfigError(f"shards.tokens_per_shard: shard {k} would hold {int(sizes[k]):,} tokens, over 2^31-1 "
                          f"(int32 offsets); lower tokens_per_shard below {per_shard:,}")


def assign_shards(tokens: np.ndarray, per_shard: int) -> np.ndarray:
    """Shard index of each document (in canonical order): the shard its first token falls in
    (`shards.order.bucket_sort` does the same from a bucket's first token)."""
    starts = np.cumsum(tokens) - tokens
    shard_of = (starts // per_shard).astype(np.int64)
    check_shard_sizes(np.bincount(shard_of, weights=tokens) if len(tokens) else np.zeros(0), per_shard)
    return shard_of


class ShardStage(Stage):
    name = "shards"
    published = ("shards",)  # under output; its files are in the stage marker
    config_keys = ("shards!carry_tokens", "tokenizer", "mixture", "sources")  # where tokens travel: same bytes
    documents = False
    inline_tokens = INLINE_TOKENS
    gather_limit = GATHER_LIMIT  # rows of one key bucket gathered to the driver (mixture cut, val floors)
    buckets_per_worker = BUCKETS_PER_WORKER

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
        weights, caps = source_settings(cfg)
        wanted = {s for s, w in weights.items() if w > 0 or not cfg.mixture.enabled}
        specs = [s for s in ctx.input_specs() if s["source"] in wanted]
        factory = _TokenizeFactory(str(tok_file), ctx.work, scfg.batch_rows)
        parts = ctx.map_parts(factory, specs, label="tokenize", unit="docs")
        names = sorted(s["part"] for s in specs)
        tokenized = merge_parts(parts)
        part_tokens = {p.part: int(p.counters.get("tokens", 0)) for p in parts}
        # small selections: every round below runs here, one task after the other
        epochs = max((caps[s] for s in wanted), default=1) if cfg.mixture.enabled else 1
        inline = tokenized.counters["tokens"] * math.ceil(epochs) <= self.inline_tokens
        run = mapper(ctx, inline)

        # 2. the mixture again, with exact token counts: the token parts' catalogs
        mix = TaskFactory(str(ctx.work / "mix" / "catalog"), cfg.seed, 1.0, MIX_HIST_BITS, carry=SHARDS_CARRY)
        mspecs = [{"part": n, "round": "catalog", "kind": "tokens", "index": k, "size": part_tokens.get(n, 0),
                   "input": str(ctx.work / "catalog" / f"{n}.parquet")} for k, n in enumerate(names)]
        sel = select_mixture(cfg, run, ctx.work / "mix", mix, mspecs, self.gather_limit, label="shards mixture")
        sel_files = storage.list_files(sel.selection, "*.parquet")
        warnings = list(sel.warnings)

        # 3. the val split per source: aggregates -> a cut per source
        cuts, val_stats, unique = decide_val(self._val_scan(ctx, run, sel_files, scfg.val_fraction), scfg.val_fraction,
                                             scfg.val_min_documents, scfg.val_min_tokens, gather_limit=self.gather_limit)
        short = short_warnings(val_stats, scfg.val_min_documents, scfg.val_min_tokens)
        for w in short:
            log(f"[yellow]warning: {w}")
        warnings = warnings + short

        # 4. the canonical order and the shard cuts, a distributed sort (checked before a shard is written)
        workers = ctx.workers or os.cpu_count() or 1
        token_files = [str(ctx.work / "tokens" / f"{n}.arrow") for n in names]
        # carried through the sort (shards/gather.py): on an object store a writer would otherwise
        # read every token part it gathers from
        carry = storage.is_remote(ctx.work) if scfg.carry_tokens == "auto" else scfg.carry_tokens == "always"
        buckets = max(1, self.buckets_per_worker * workers, math.ceil(sel.selected / BUCKET_ROWS))
        if carry:  # a sort task holds its range's tokens too
            buckets = max(buckets, math.ceil(tokenized.counters["tokens"] * epochs * dtype.itemsize / BUCKET_TOKEN_BYTES))
        scat = round_dir(ctx.work, "scatter", {"buckets": buckets, "cuts": cuts, "carry": carry})
        run(RoundFactory(scat, cfg.seed, token_files if carry else None, vocab),
            [{"part": f.stem, "round": "scatter", "input": str(f), "cuts": cuts, "buckets": buckets} for f in sel_files],
            label="shards scatter", work=scat)
        dests = summed([scat / "agg" / f"{f.stem}.parquet" for f in sel_files], DEST_SCHEMA, "dest", 2 * buckets)
        first = dest_offsets(dests["tokens"], buckets)
        bucket = round_dir(ctx.work, "bucket", {"buckets": buckets, "cuts": cuts, "per_shard": scfg.tokens_per_shard})
        bspecs = [{"part": f"{d:05d}", "round": "bucket", "dest": d, "first_token": int(first[d]),
                   "per_shard": scfg.tokens_per_shard, "folder": str(scat / "rows"), "size": int(dests["tokens"][d])}
                  for d in range(2 * buckets) if dests["docs"][d]]  # a task lists the scatter files: specs stay small
        run(RoundFactory(bucket, cfg.seed), bspecs, label="shards sort", work=bucket)
        split_shards = self._shards(bucket, bspecs, buckets, scfg.tokens_per_shard)

        # 5. workers write the shards (and their export pieces) into the staging folder
        staging = ctx.work / "staging"
        write_work = ctx.work / "write"
        if not storage.exists(staging):  # a rerun after the staging folder was published (renamed): write again
            storage.remove_tree(write_work)
        storage.ensure_dir(staging)
        storage.commit_bytes(staging / "tokenizer.json", storage.location(tok_file).read_bytes())  # self-contained (a copy, not a link)
        exports = Exports.plan(scfg.exports, dtype.name, vocab, eot) if scfg.exports else None
        per_task = max(1, min(MAX_SHARDS_PER_TASK, math.ceil(sum(len(v) for v in split_shards.values()) / (4 * workers))))
        write_specs = []
        for split, shards in split_shards.items():
            prefix = "shard" if split == "train" else "val"
            for lo in range(0, len(shards), per_task):
                group = shards[lo: lo + per_task]
                write_specs.append({"part": f"{prefix}-{group[0][0]:05d}-{group[-1][0]:05d}", "split": split, "prefix": prefix,
                                    "shards": group, "size": sum(n for *_, n in group)})
        meta = {"dtype": dtype.name, "vocab_size": vocab, "eot_id": eot, "tokenizer_sha256": tok_sha,
                "config_hash": ctx.stage_hash}
        wfactory = _WriteFactory(token_files, str(staging), str(write_work), vocab, meta, exports)
        run(wfactory, [{**sp, "shards": [(k, t, d, files) for k, t, d, files, _ in sp["shards"]]} for sp in write_specs],
            label="write shards", work=write_work)
        infos = [ShardInfo(**r) for sp in write_specs
                 for r in storage.read_json(write_work / "records" / f"{sp['part']}.json")]
        manifest = Manifest(dtype=dtype.name, vocab_size=vocab, eot_id=eot, tokenizer_sha256=tok_sha,
                            tokenizer_path="tokenizer.json", config_hash=ctx.stage_hash, seed=cfg.seed, shards=infos)
        export_record = self._exports(ctx, run, exports, staging, write_work, manifest) if exports else {}

        realized: Counter = Counter()
        for info in infos:
            realized.update(info.tokens_by_source)
        table = mixture_table(sel.plans, dict(realized), unique_docs={s: unique.get(s, 0) for s in sel.plans})
        manifest.extra = {"mixture": table, "warnings": warnings, "tokenizer": tinfo, "exports": export_record,
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
        stats = PartStats(docs_in=docs, docs_out=docs, bytes_in=tokenized.bytes_in,
                          counters=Counter(tokens=sum(t["tokens"] for t in totals.values()),
                                           tokenized_documents=tokenized.docs_in,
                                           tokenized_tokens=tokenized.counters["tokens"]))
        extra = {"mixture": table, "warnings": warnings, "totals": totals, "shards": len(infos),
                 "dtype": dtype.name, "vocab_size": vocab, "tokenizer_sha256": tok_sha, "exports": export_record,
                 "write_tasks": len(write_specs), "inline": inline, "buckets": buckets,
                 "mixture_rounds": sel.rounds}
        return StageResult(stats=stats, extra=extra)

    def _val_scan(self, ctx: StageContext, run, sel_files: list[Path], fraction: float):
        """`decide_val`'s scan: a `vscan` round over the selection files, its counts summed, its
        histograms summed per source (one file at a time), its gathered rows concatenated."""
        limit = hash_limit(fraction) if fraction > 0 else 0

        def scan(hist, gather):
            work = round_dir(ctx.work, "val", {"limit": limit, "hist": hist, "gather": gather})
            parts = run(RoundFactory(work, ctx.cfg.seed), [{"part": f.stem, "round": "vscan", "input": str(f), "limit": limit,
                                                             "hist": hist, "gather": gather} for f in sel_files],
                        label="shards val split", work=work)
            counts = merge_parts(parts).counters
            sums: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            rows = []
            for f in sel_files:
                h = storage.read_table(work / "hist" / f"{f.stem}.parquet")
                for s in pc.unique(h.column("source")).to_pylist():
                    t = h.filter(pc.equal(h.column("source"), s))
                    size = 1 << hist.get(s, hist.get("*"))[2]
                    d, tk = sums.setdefault(s, (np.zeros(size, np.int64), np.zeros(size, np.int64)))
                    np.add.at(d, t.column("bucket").to_numpy(), t.column("docs").to_numpy())
                    np.add.at(tk, t.column("bucket").to_numpy(), t.column("tokens").to_numpy())
                if gather:
                    rows.append(storage.read_table(work / "rows" / f"{f.stem}.parquet"))
            nz = {s: np.flatnonzero(d) for s, (d, _) in sums.items()}
            hist_t = pa.table({"source": pa.array([s for s in sorted(sums) for _ in nz[s]], pa.string()),
                               "bucket": np.concatenate([nz[s] for s in sorted(sums)] or [np.zeros(0, np.int64)]).astype(np.int64),
                               "docs": np.concatenate([sums[s][0][nz[s]] for s in sorted(sums)] or [np.zeros(0, np.int64)]),
                               "tokens": np.concatenate([sums[s][1][nz[s]] for s in sorted(sums)] or [np.zeros(0, np.int64)])},
                              schema=VHIST_SCHEMA)
            return counts, hist_t, (pa.concat_tables(rows) if rows else GATHER_SCHEMA.empty_table())
        return scan

    @staticmethod
    def _shards(bucket: Path, bspecs: list[dict[str, Any]], buckets: int, per_shard: int) -> dict[str, list]:
        """Per split, each shard as (k, first token, first document, [sorted-row files in order],
        tokens), from the sort round's per-shard aggregates; sizes checked against int32 offsets."""
        out: dict[str, list] = {}
        for si, split in enumerate(SPLITS):
            tokens: dict[int, int] = {}
            docs: dict[int, int] = {}
            files: dict[int, list[str]] = {}
            for sp in bspecs:
                if sp["dest"] // buckets != si:
                    continue
                t = storage.read_table(bucket / "agg" / f"{sp['part']}.parquet")
                for k, n, d in zip(*(t.column(c).to_pylist() for c in ("shard", "tokens", "docs"))):
                    tokens[k] = tokens.get(k, 0) + n
                    docs[k] = docs.get(k, 0) + d
                    files.setdefault(k, []).append(str(bucket / "rows" / f"{sp['part']}.parquet"))
            ks = sorted(tokens)
            assert ks == list(range(len(ks))), ks  # every shard holds a document: first tokens are consecutive
            sizes = np.array([tokens[k] for k in ks], np.int64)
            check_shard_sizes(sizes, per_shard)
            starts = np.cumsum(sizes) - sizes
            ndocs = np.array([docs[k] for k in ks], np.int64)
            dstarts = np.cumsum(ndocs) - ndocs
            if ks:
                out[split] = [(k, int(starts[k]), int(dstarts[k]), files[k], int(sizes[k])) for k in ks]
        return out

    @staticmethod
    def _exports(ctx: StageContext, run, exports: Exports, staging: Path, write_work: Path, manifest: Manifest) -> dict:
        """The split files from the writers' pieces (one task each), then meta.pkl and the record."""
        splits = {s: (len(manifest.files(s)), sum(i.documents for i in manifest.files(s)))
                  for s in sorted({i.split for i in manifest.shards})}
        files = split_files(exports, splits)
        work = write_work / "assemble"
        run(RoundFactory(work, ctx.cfg.seed), [{"part": sf.path.replace("/", "~"), "round": "assemble", "path": sf.path,
                                                "head": sf.head.hex(), "tail": sf.tail.hex(), "pieces": sf.pieces,
                                                "folder": str(staging), "pieces_dir": str(write_work / "pieces"),
                                                "size": len(sf.pieces)} for sf in files],
            label="shards exports", work=work)
        storage.remove_tree(write_work / "pieces")
        return finish_exports(exports, staging, manifest)

"""The dedup stage: decontamination, exact and MinHash LSH near-duplicates, in one pass of
sub-steps under `_work/NN-dedup/`, each resumable on its own:

  scan/     map over parts (or row-group chunks of them when parts are fewer than buckets): per
            document the contamination check, the exact key, the MinHash band keys; writes per
            task one file of band rows (`bands/`) and one of node rows (`nodes/`: keep-rule
            fields and shingle set), each sorted by destination bucket, and the contaminated ids
            (`contam/`).
  cand/ verify1/ verify2/ cc/ members/ decide/
            shuffle rounds, one task per bucket through the runner (see components.py): band
            groups -> candidate pairs -> true-Jaccard check -> connected components -> keeper
            per component -> `decide/` rows (part, id, reason, duplicate_of) keyed by part. When
            the verified edges fit one task (`cc_single_max_edges`), components and keepers are
            one task writing `decide/`, with no cc/ and members/ rounds.
  kept/ dropped/ stats/
            map over parts: every document kept or dropped with its reason.

Buckets = `buckets_per_worker` x workers (fixed in `plan.json` at the first run). All tasks are
plain tasks through the runner (`map_tasks` for rounds, `map_parts` for the part maps, where each
worker builds its part task once), so the stage starts no actor pool. Memory per task
is one part or one bucket, never the corpus. Every task commits its one output file and then a
marker (`stats/PART.json` for part maps, `_done/NAME.json` for rounds), so a rerun after a kill
redoes only unmarked tasks; decisions depend only on the inputs (sorted where order matters), so
1 or N workers write the same documents and dropped records. Contaminated documents take no part
in clustering: they are dropped whatever their duplicates do.
"""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.dedup import components as cc
from filters.dedup.config import DedupConfig
from filters.dedup.exact import EXACT_SEED, exact_key, normalize
from filters.dedup.minhash import MinHasher, Shingler, band_key_matrix, batch_gram_hashes, minhash_params, resolve_bands
from pipelines.document import DROP_REASON, DUPLICATE_OF
from pipelines import storage
from pipelines.parts import PartStats, atomic_write_json, done_parts, load_part_stats
from pipelines.shuffle import DestWriter
from pipelines.stage import Stage, StageContext, StageResult, merge_parts
from pipelines.step import Resources, Step, StepPartTask

STAGE = "dedup"
# A scan task writes its band and node rows every `scan_flush_bytes(buckets)` bytes (sorted by
# destination bucket) instead of holding a whole part's: a row group per bucket per flush of at
# least 512 KiB, the flushes at least 2 MiB. Peak RSS of a scan task over its worker's baseline,
# measured on the 64 MB benchmark corpus (4 buckets): a 64 MB part +184 MiB holding the whole part
# (and its file pre-buffered), +70 MiB flushing every 8 MiB, +51 MiB every 2 MiB; a 16 MB part
# +50 -> +42 MiB (8 -> 2 MiB); the scan's time unchanged.
FLUSH_BYTES_PER_BUCKET = 512 << 10
FLUSH_MIN_BYTES = 2 << 20


def scan_flush_bytes(buckets: int) -> int:
    return max(FLUSH_MIN_BYTES, buckets * FLUSH_BYTES_PER_BUCKET)


# Text a scan step hashes at once: its numpy arrays (grams, signatures, shingle sets) take about
# ten times the text, so a batch is cut by bytes, not rows (a batch of 1,000 books would be a GB).
# Measured on the benchmark corpus (2.5 KB documents), 16 MB part: peak +43 MiB with 1,000-row
# batches, +35 MiB with 500 rows (about 1.2 MB), the scan's time unchanged.
SCAN_SLICE_BYTES = 1 << 20


def text_slices(text: pa.Array, limit: int) -> list[tuple[int, int]]:
    """[lo, hi) row ranges of consecutive documents holding about `limit` bytes of text each
    (a longer document is a slice of its own)."""
    n = len(text)
    if n == 0:
        return []
    sizes = pc.binary_length(text).to_numpy(zero_copy_only=False).astype(np.int64)
    ends = np.cumsum(sizes)
    out, lo = [], 0
    while lo < n:
        base = ends[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(ends, base + limit, side="right")))
        out.append((lo, min(hi, n)))
        lo = hi
    return out
CONTAM_SCHEMA = pa.schema([("id", pa.string()), ("reason", pa.string())])


class ScanPartTask:
    """Per part: contamination, exact key, band keys, keep-rule fields and shingle sets. Writes
    one file of band rows and one of node rows, each sorted by destination bucket."""

    resources = Resources(cpus=1)

    def __init__(self, cfg: DedupConfig, plan: dict[str, Any], work: Path, base_dir: Path | None, batch_rows: int):
        self.cfg, self.plan, self.work, self.base_dir, self.batch_rows = cfg, plan, storage.location(work), base_dir, batch_rows
        self.priority = {s: i for i, s in enumerate(cfg.source_priority)}

    def setup(self) -> None:
        from filters.dedup.decontam import EvalIndex

        m = self.cfg.minhash
        self.shingler = Shingler(m)
        self.hasher = MinHasher(m.num_perm, m.seed, m.scheme, self.plan.get("minhash")) if m.enabled else None
        d = self.cfg.decontam
        self.evals = EvalIndex(d, self.shingler, self.base_dir) if d.enabled and d.eval_sets else None

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        """spec: a chunk of a part (`part` = chunk name, `row_groups` = [lo, hi) or null for all,
        `row0` = the part row of its first document)."""
        part = spec["part"]
        stats = PartStats(part=part, source=spec["source"])
        acc: dict[str, list] = {"contam_ids": [], "contam_reasons": []}
        row0 = spec.get("row0", 0)
        rg = spec.get("row_groups")
        pf = storage.parquet_file(spec["input"])
        budget = scan_flush_bytes(self.plan["buckets"])
        with DestWriter(self.work / "bands" / f"{part}.parquet", cc.BAND_SCHEMA, budget) as bands, \
                DestWriter(self.work / "nodes" / f"{part}.parquet", cc.NODE_SCHEMA, budget) as nodes:
            for rb in pf.iter_batches(batch_size=self.batch_rows, row_groups=list(range(*rg)) if rg else None):
                for lo, hi in text_slices(rb.column("text"), SCAN_SLICE_BYTES):
                    self._batch(pa.Table.from_batches([rb.slice(lo, hi - lo)]), spec["index"], row0, acc, bands, nodes)
                    row0 += hi - lo
                stats.docs_in += rb.num_rows
        stats.docs_out = stats.docs_in
        contam = pa.table([acc["contam_ids"], acc["contam_reasons"]], schema=CONTAM_SCHEMA)
        cc.write_by_dest(self.work / "contam" / f"{part}.parquet", contam, None)
        stats.counters["contaminated"] = len(acc["contam_ids"])
        atomic_write_json(self.work / "stats" / f"{part}.json", stats.to_json())
        return stats.to_json()

    def _batch(self, batch: pa.Table, part_index: int, row0: int, acc: dict[str, list],
               bands: DestWriter, nodes: DestWriter) -> None:
        """Per document in Python: normalisation, shingle text, contamination, exact key. Then for
        the whole batch at once (numpy): gram hashes, signatures, band keys and shingle sets; its
        band rows and node rows go to their shuffle files' writers."""
        m, exact_on, n = self.cfg.minhash, self.cfg.exact.enabled, self.plan["buckets"]
        ids, sources, texts = (batch.column(c).to_pylist() for c in ("id", "source", "text"))
        keep: list[int] = []  # rows not contaminated
        bufs: list[bytes] = []
        chars: list[bool] = []
        ekeys: list[int | None] = []
        for i, (doc_id, source, text) in enumerate(zip(ids, sources, texts)):
            norm = normalize(text)
            buf, is_chars = self.shingler.prepare(norm, source)
            if self.evals is not None:
                reason = self.evals.reason(buf, is_chars)
                if reason:
                    acc["contam_ids"].append(doc_id)
                    acc["contam_reasons"].append(reason)
                    continue
            keep.append(i)
            bufs.append(buf)
            chars.append(is_chars)
            ekeys.append(exact_key(norm) if exact_on else None)
        take = pa.array(keep, pa.int64())
        node = cc.make_node(part_index, row0 + np.asarray(keep, np.int64))
        has_exact = np.fromiter((k is not None for k in ekeys), bool, len(keep))
        band_key_parts = [np.fromiter((k for k in ekeys if k is not None), np.uint64)]
        band_node_parts = [node[has_exact]]
        hashes = pa.nulls(len(keep), pa.list_(pa.uint32()))
        if self.hasher is not None:
            hv, off = batch_gram_hashes(bufs, chars, m.word_ngram, m.char_ngram, m.shingle_hash)
            counts = np.diff(off)
            has_buf = counts > 0  # an empty text has no shingles, only an exact key
            keys = band_key_matrix(self.hasher.signatures(hv, off)[has_buf], self.plan["bands"], self.plan["rows"])
            band_key_parts.append(keys.ravel())
            band_node_parts.append(np.repeat(node[has_buf], keys.shape[1]))
            if m.verify:  # each document's set of gram hashes, sorted: one unique over (document, hash)
                u = hv.astype(np.uint64)  # (document << 32) | hash, built and sorted in place
                u |= np.repeat(np.arange(len(keep), dtype=np.uint64) << np.uint64(32), counts)
                u.sort()
                # sort + neighbour test: numpy 2.4's hash-based np.unique was 35x slower on 400k values
                u = u[np.concatenate(([True], u[1:] != u[:-1]))] if len(u) else u
                per = np.bincount((u >> np.uint64(32)).astype(np.int64), minlength=len(keep))
                offsets = np.zeros(len(keep) + 1, np.int32)
                np.cumsum(per, out=offsets[1:])
                valid = has_buf | has_exact  # no shingles but an exact key: the empty set
                hashes = pa.ListArray.from_arrays(pa.array(offsets), pa.array(u.astype(np.uint32)),
                                                  mask=pa.array(~valid))
        band_keys = np.concatenate(band_key_parts).astype(np.uint64)
        bands.add(pa.table([pa.array(band_keys, pa.uint64()), pa.array(np.concatenate(band_node_parts), pa.uint64())],
                           schema=cc.BAND_SCHEMA), (band_keys % np.uint64(n)).astype(np.int64))
        kept_sources = [sources[i] for i in keep]
        quality = batch.column("quality_score").take(take).cast(pa.float64()).combine_chunks() \
            if "quality_score" in batch.column_names else pa.nulls(len(keep), pa.float64())
        meta = batch.column("meta").to_pylist() if "meta" in batch.column_names else None
        vendored = [_vendored(meta[i]) for i in keep] if meta is not None else [False] * len(keep)
        nodes.add(pa.table([
            pa.array(node, pa.uint64()), batch.column("id").take(take).combine_chunks(),
            pa.array(kept_sources, pa.string()), quality, pa.array(vendored, pa.bool_()),
            pa.array([self.priority.get(s, len(self.priority)) for s in kept_sources], pa.int32()),
            pa.array(ekeys, pa.uint64()), hashes], schema=cc.NODE_SCHEMA),
            cc.node_bucket(np.asarray(node, np.uint64), n).astype(np.int64))


def _vendored(meta: str | None) -> bool:
    """Whether a document's meta (JSON) says it is a vendored copy (the code reader's `vendored: true`)."""
    if not meta or '"vendored"' not in meta:  # most documents: no JSON parse
        return False
    try:
        return json.loads(meta).get("vendored") is True
    except (ValueError, AttributeError):
        return False


class DecisionStep(Step):
    """Marks the documents of one part with the decisions made for them."""

    name = STAGE

    def __init__(self, decisions: dict[str, tuple[str, str | None]]):
        self.decisions = decisions

    def process(self, batch: pa.Table) -> pa.Table:
        found = [self.decisions.get(i, (None, None)) for i in batch.column("id").to_pylist()]
        batch = batch.append_column(DROP_REASON, pa.array([f[0] for f in found], pa.string()))
        return batch.append_column(DUPLICATE_OF, pa.array([f[1] for f in found], pa.string()))


class ApplyPartTask:
    """Loads one part's decisions (its row group of every `decide/` file, and `scan/contam/`) and
    writes its kept documents and dropped records."""

    resources = Resources(cpus=1)

    def __init__(self, work: Path, batch_rows: int, decide_files: list[str]):
        self.work, self.batch_rows, self.decide_files = storage.location(work), batch_rows, decide_files

    def setup(self) -> None:
        pass

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        decisions: dict[str, tuple[str, str | None]] = {}
        if self.decide_files:
            t = cc.part_decisions(self.decide_files, spec["index"])
            decisions.update(zip(t["id"].to_pylist(), zip(t["reason"].to_pylist(), t["duplicate_of"].to_pylist())))
        contam = [self.work / "scan" / "contam" / f"{c}.parquet" for c in spec.get("chunks", [spec["part"]])]
        t = cc.read_dest(contam, None, CONTAM_SCHEMA)
        decisions.update((i, (r, None)) for i, r in zip(t["id"].to_pylist(), t["reason"].to_pylist()))
        return StepPartTask(DecisionStep(decisions), STAGE, self.work, self.batch_rows).run(spec)


def map_part_tasks(factory: Callable[[], Any], specs: list[dict[str, Any]], work: Path, label: str,
                   ctx: StageContext) -> list[PartStats]:
    """`ctx.map_parts` for the dedup's part maps, whose markers are `stats/PART.json` without
    input keys (scan chunks are not read parts). Committed parts are not redone."""
    from pipelines.runner import map_parts

    done = done_parts(work)
    map_parts(factory, [s for s in specs if s["part"] not in done], label=label, workers=ctx.workers)
    wanted = {s["part"] for s in specs}
    return [p for p in load_part_stats(work) if p.part in wanted]


def _round_task(spec: dict[str, Any]) -> dict[str, Any]:
    """One task of a round: run the function, then commit its marker (after its output file)."""
    out = getattr(cc, spec["fn"])(spec)
    atomic_write_json(spec["marker"], out)
    return out


def run_round(label: str, fn: str, specs: list[dict[str, Any]], folder: Path, workers: int | None) -> list[dict]:
    """Run `components.<fn>(spec)` for every spec not yet marked done under `folder/_done/`,
    through the runner (plain tasks); returns every spec's result in spec order."""
    from pipelines.runner import map_tasks

    done = folder / "_done"
    results: dict[str, dict] = {}
    todo = []
    for s in specs:
        marker = done / f"{s['name']}.json"
        if storage.exists(marker):
            results[s["name"]] = storage.read_json(marker)
        else:
            todo.append({**s, "fn": fn, "marker": str(marker)})
    for s, r in zip(todo, map_tasks(_round_task, todo, label=label, workers=workers)):
        results[s["name"]] = r
    return [results[s["name"]] for s in specs]


def _scan_chunks(specs: list[dict[str, Any]], tasks: int) -> dict[str, list[list[int]]]:
    """Fewer parts than `tasks` (a small corpus, or one big part per source): split parts into
    chunks of whole row groups, [lo, hi, first row], so that every worker scans; parts not named
    are scanned whole. Many parts: nothing to split, and no footer is read."""
    if len(specs) >= tasks:
        return {}
    groups = {s["part"]: [m.row_group(i).num_rows for m in [storage.parquet_file(s["input"]).metadata]
                          for i in range(m.num_row_groups)] for s in specs}
    target = max(1, -(-sum(map(sum, groups.values())) // tasks))  # rows per chunk, about
    out: dict[str, list[list[int]]] = {}
    for part, rows in groups.items():
        chunks, lo, row0, acc = [], 0, 0, 0
        for i, r in enumerate(rows):
            acc += r
            if acc >= target or i == len(rows) - 1:
                chunks.append([lo, i + 1, row0])
                lo, row0, acc = i + 1, row0 + acc, 0
        if len(chunks) > 1:
            out[part] = chunks
    return out


class DedupStage(Stage):
    name = STAGE
    config_keys = ("dedup",)

    def run(self, ctx: StageContext) -> StageResult:
        cfg = ctx.cfg.dedup
        work = ctx.work
        plan = self._plan(ctx)
        specs = self._specs(ctx, plan)
        small_plan = {k: plan[k] for k in ("buckets", "bands", "rows")}  # not the part list: it ships with every task
        if cfg.minhash.enabled:
            small_plan["minhash"] = minhash_params(cfg.minhash.num_perm, cfg.minhash.seed, cfg.minhash.scheme)
        scan_factory = functools.partial(ScanPartTask, cfg, small_plan, work / "scan", ctx.base_dir, ctx.cfg.read.batch_rows)
        scan_specs: list[dict[str, Any]] = []
        chunks: dict[str, list[str]] = {}  # part -> the names of its scan chunks
        for s in specs:
            split = plan["chunks"].get(s["part"])
            for i, c in enumerate(split or [None]):
                name = f"{s['part']}.{i:04d}" if split else s["part"]
                chunks.setdefault(s["part"], []).append(name)
                scan_specs.append({**s, "part": name, "row_groups": c[:2] if c else None, "row0": c[2] if c else 0})
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        map_part_tasks(scan_factory, scan_specs, work / "scan", "dedup:scan", ctx)
        timings["scan"] = time.perf_counter() - t0
        extra: dict[str, Any] = {k: plan[k] for k in ("buckets", "bands", "rows")}
        decide_files: list[str] = []
        if cfg.exact.enabled or cfg.minhash.enabled:
            facts, decide_files = self._cluster(ctx, plan, [s["part"] for s in scan_specs], timings)
            extra.update(facts)
        factory = functools.partial(ApplyPartTask, work, ctx.cfg.read.batch_rows, decide_files)
        t0 = time.perf_counter()
        parts = map_part_tasks(factory, [{**s, "chunks": chunks[s["part"]]} for s in specs], work, STAGE, ctx)
        timings["apply"] = time.perf_counter() - t0
        # wall seconds per sub-step of this run (a resumed run times only what it redid)
        extra["seconds"] = {k: round(v, 3) for k, v in timings.items()}
        return StageResult(stats=merge_parts(parts), parts=parts, extra=extra)

    @staticmethod
    def _specs(ctx: StageContext, plan: dict[str, Any]) -> list[dict[str, Any]]:
        """Input specs with each part's index in the plan (nodes are `index << 32 | row`)."""
        index = {p: i for i, p in enumerate(plan["parts"])}
        specs = ctx.input_specs()
        missing = [s["part"] for s in specs if s["part"] not in index]
        if missing:
            raise RuntimeError(f"dedup: parts {missing[:3]} are not in {ctx.work / 'plan.json'}; delete it to redo the stage")
        return [{**s, "index": index[s["part"]]} for s in specs]

    @staticmethod
    def _plan(ctx: StageContext) -> dict[str, Any]:
        """Buckets, LSH bands and part indices, fixed at the first run so that a resumed run agrees.
        Buckets follow the cluster (`buckets_per_worker` x workers), not the input size: a task
        per bucket and round, and a file per task."""
        path = ctx.work / "plan.json"
        if storage.exists(path):
            return storage.read_json(path)
        cfg = ctx.cfg.dedup
        if cfg.buckets:
            buckets = cfg.buckets
        else:
            from pipelines.runner import cluster_cpus

            buckets = cfg.buckets_per_worker * (ctx.workers or cluster_cpus())
        bands, rows = resolve_bands(cfg.minhash, cfg.threshold) if cfg.minhash.enabled else (0, 0)
        specs = ctx.input_specs()
        plan = {"buckets": buckets, "bands": bands, "rows": rows, "exact_seed": EXACT_SEED,
                "parts": sorted(s["part"] for s in specs), "chunks": _scan_chunks(specs, buckets)}
        atomic_write_json(path, plan)
        return plan

    @staticmethod
    def _cluster(ctx: StageContext, plan: dict[str, Any], parts: list[str],
                 timings: dict[str, float]) -> tuple[dict[str, Any], list[str]]:
        cfg, work, n = ctx.cfg.dedup, ctx.work, plan["buckets"]
        verify = cfg.minhash.enabled and cfg.minhash.verify
        scan = work / "scan"
        band_files = [str(scan / "bands" / f"{p}.parquet") for p in parts]
        node_files = [str(scan / "nodes" / f"{p}.parquet") for p in parts]

        def rnd(label: str, fn: str, folder: str, inputs: list[str], tasks: int = n, **kw: Any) -> tuple[list[dict], list[str]]:
            out = work / folder
            specs = [{"name": f"{b:05d}", "bucket": b, "buckets": n, "inputs": inputs,
                      "output": str(out / f"{b:05d}.parquet"), **kw} for b in range(tasks)]
            t0 = time.perf_counter()
            res = run_round(label, fn, specs, out, ctx.workers)
            key = folder.split("/")[0]  # all component rounds under "cc"
            timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0
            return res, [s["output"] for s in specs]

        res, files = rnd("dedup:bands", "band_pairs", "cand", band_files, verify=verify,
                         max_group=cfg.minhash.max_pair_group)
        facts: dict[str, Any] = {"candidate_pairs": sum(r["pairs"] for r in res)}
        if verify:
            _, files = rnd("dedup:verify1", "verify_attach", "verify1", files, sets=node_files)
            res, files = rnd("dedup:verify2", "verify_check", "verify2", files, sets=node_files, threshold=cfg.threshold)
            facts["verified_pairs"] = sum(r["verified"] for r in res)
            edges = 2 * facts["verified_pairs"]
        else:
            edges = 2 * facts["candidate_pairs"]
        if edges <= cfg.cc_single_max_edges:  # components and keepers in one task
            res, files = rnd("dedup:components", "components_decide", "decide", files, tasks=1, sets=node_files)
            facts.update(cc_mode="single", cc_rounds=1, components=res[0]["components"])
            return facts, files
        prev, k = None, 0
        while True:
            res, mid = rnd(f"dedup:large-star {k}", "large_star", f"cc/ls{k:03d}", files)
            digests = [r["digest"] for r in res]
            if digests == prev:
                break
            prev = digests
            _, files = rnd(f"dedup:small-star {k}", "small_star", f"cc/ss{k:03d}", mid)
            k += 1
            if k > 100:
                raise RuntimeError("dedup: connected components did not converge in 100 rounds")
        facts.update(cc_mode="star", cc_rounds=k)
        _, files = rnd("dedup:members", "members", "members", files, sets=node_files)
        _, files = rnd("dedup:decide", "decide", "decide", files)
        return facts, files

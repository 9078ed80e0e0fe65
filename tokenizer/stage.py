"""The tokenizer stage: train byte-level BPE on a sample of the mixture drawn by weight, or take
the user's tokenizer.json. Writes `OUTPUT/tokenizer/` atomically: `tokenizer.json`,
`sample_ids.txt` (SOURCE<TAB>ID per line, in training order) and `info.json`.

The sample: each source gets `sample_chars × its planned share` characters (its share of the
selected tokens, repeats included), filled with its selected documents in
`doc_key(seed, id, "tokenizer")` order (ties by id). It is taken without corpus data on the driver:

1. `keys` (one task per selection file of the mixture stage, or per documents part without one):
   selected tokens per source, and for each unique selected document (its epoch-0 row) its key and
   characters: `keys/PART.parquet` sorted by key, plus a histogram of characters over the key's top
   `HIST_BITS` bits.
2. The driver sums the histograms and puts a key threshold per source at the end of the bucket
   where the source's budget is reached; it reads only the rows below the thresholds (at most the
   budget plus one bucket) and places the exact cut, the same documents as a prefix of the whole
   order would give.
3. `texts` (one task per documents part): the picked documents' texts, `texts/PART.parquet`.

4. `train` (one task): the BPE trainer over the texts in the picked order (it needs the global
   pair counts; it is multithreaded) writes `train/tokenizer.json`.

The driver holds the sample's ids and per-source histograms, never its texts. For inputs up to
`INLINE_BYTES` every round runs on the driver, one task after the other.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines import storage
from pipelines.config import Config
from pipelines.memory import release_memory
from pipelines.mixture import doc_keys, selection_dir
from pipelines.parts import PartStats, atomic_write_bytes, atomic_write_json, done_parts, load_part_stats
from pipelines.progress import log
from pipelines.stage import Stage, StageContext, StageResult
from pipelines.step import Resources
from tokenizer.config import TokenizerConfig
from tokenizer.train import describe, load_tokenizer, sha256_text, specials_as_text, tokenizer_json, train_bpe

TOKENIZER_DIR = "tokenizer"
TOKENIZER_FILE = "tokenizer.json"
HIST_BITS = 10
# Inputs up to this many bytes: the sample's two rounds run on the driver (starting actors costs
# more than the work; memory stays bounded by this figure).
INLINE_BYTES = 32 << 20
# `top` = key >> 32 as int64: thresholds are multiples of 2**54, and Parquet filters on uint64 overflow
KEYS_SCHEMA = pa.schema([("source", pa.string()), ("key", pa.uint64()), ("top", pa.int64()), ("id", pa.string()),
                         ("chars", pa.int64())])
HIST_SCHEMA = pa.schema([("source", pa.string()), ("bucket", pa.int64()), ("chars", pa.int64())])
TEXTS_SCHEMA = pa.schema([("source", pa.string()), ("id", pa.string()), ("text", pa.string())])


def _parquet_bytes(table: pa.Table, row_group_size: int | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=row_group_size)
    return sink.getvalue().to_pybytes()


class SamplePartTask:
    """Part task of the sample's rounds: spec["round"] is "keys", "texts" or "train"."""

    def __init__(self, work: str, seed: int, bytes_per_token: float):
        self.work, self.seed, self.bpt = storage.location(work), seed, bytes_per_token
        self.resources = Resources()

    def setup(self) -> None:
        pass

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        stats = PartStats(part=spec["part"])
        getattr(self, "_" + spec["round"])(spec, stats)
        stats.docs_out = stats.docs_in
        atomic_write_json(self.work / "stats" / f"{spec['part']}.json", stats.to_json())
        return stats.to_json()

    def _rows(self, spec: dict[str, Any]) -> pa.Table:
        """(source, id, epoch, tokens, chars) of a selection file, or of a documents part (each
        document once, tokens estimated as the mixture stage does)."""
        if spec["kind"] == "selection":
            return storage.read_table(spec["input"], columns=["source", "id", "epoch", "tokens", "chars"])
        out = []
        for rb in storage.parquet_file(spec["input"]).iter_batches(batch_size=4096, columns=["id", "source", "text"]):
            blen = pc.binary_length(rb.column(2)).to_numpy(zero_copy_only=False).astype(np.int64)
            out.append(pa.table({"source": rb.column(1).cast(pa.string()), "id": rb.column(0),
                                 "epoch": pa.array(np.zeros(rb.num_rows, np.int32)),
                                 "tokens": np.ceil(blen / self.bpt).astype(np.int64) + 1,
                                 "chars": pc.utf8_length(rb.column(2)).cast(pa.int64())}))
        return pa.concat_tables(out) if out else pa.table({"source": pa.array([], pa.string()), "id": pa.array([], pa.string()),
                                                           "epoch": pa.array([], pa.int32()), "tokens": pa.array([], pa.int64()),
                                                           "chars": pa.array([], pa.int64())})

    def _keys(self, spec: dict[str, Any], stats: PartStats) -> None:
        rows = self._rows(spec)
        stats.docs_in = rows.num_rows
        keys_t, hists = [], []
        for s in sorted(pc.unique(rows.column("source")).to_pylist()):
            t = rows.filter(pc.equal(rows.column("source"), s))
            stats.counters[f"tokens:{s}"] += int(pc.sum(t.column("tokens")).as_py() or 0)
            t = t.filter(pc.equal(t.column("epoch"), 0))  # every selected document has one epoch-0 row
            keys = doc_keys(self.seed, t.column("id").to_pylist(), "tokenizer")
            chars = t.column("chars").to_numpy().astype(np.int64)
            keys_t.append(pa.table({"source": pa.array([s] * t.num_rows, pa.string()), "key": pa.array(keys, pa.uint64()),
                                    "top": (keys >> np.uint64(32)).astype(np.int64), "id": t.column("id"), "chars": chars}, schema=KEYS_SCHEMA))
            h = np.bincount((keys >> np.uint64(64 - HIST_BITS)).astype(np.int64), weights=chars.astype(np.float64),
                            minlength=1 << HIST_BITS).round().astype(np.int64)
            nz = np.flatnonzero(h)
            hists.append(pa.table({"source": pa.array([s] * len(nz), pa.string()), "bucket": nz, "chars": h[nz]},
                                  schema=HIST_SCHEMA))
        kt = pa.concat_tables(keys_t) if keys_t else KEYS_SCHEMA.empty_table()
        kt = kt.take(pc.sort_indices(kt, [("key", "ascending"), ("id", "ascending")]))  # read by key range later
        atomic_write_bytes(self.work / "keys" / f"{spec['part']}.parquet", _parquet_bytes(kt, row_group_size=8192))
        atomic_write_bytes(self.work / "hist" / f"{spec['part']}.parquet",
                           _parquet_bytes(pa.concat_tables(hists) if hists else HIST_SCHEMA.empty_table()))

    def _train(self, spec: dict[str, Any], stats: PartStats) -> None:
        """The BPE trainer over the sample's texts in the picked order: `tokenizer.json`, and the
        characters trained on in the marker."""
        texts = ordered_texts(spec["picked"], spec["texts"])
        tok = train_bpe(texts, TokenizerConfig(**spec["tokenizer"]))
        stats.docs_in = len(texts)
        stats.counters["chars"] = sum(map(len, texts))
        del texts
        atomic_write_bytes(self.work / TOKENIZER_FILE, tokenizer_json(tok).encode("utf-8"))

    def _texts(self, spec: dict[str, Any], stats: PartStats) -> None:
        picked = storage.read_table(spec["picked"])
        want = set(zip(picked.column("source").to_pylist(), picked.column("id").to_pylist()))
        value_set = pc.unique(picked.column("id"))
        out = []
        for rb in storage.parquet_file(spec["input"]).iter_batches(batch_size=4096, columns=["id", "source", "text"]):
            t = pa.Table.from_batches([rb])
            t = t.filter(pc.is_in(t.column("id"), value_set=value_set))
            if t.num_rows:
                keep = [(s, i) in want for s, i in zip(t.column("source").to_pylist(), t.column("id").to_pylist())]
                t = t.filter(pa.array(keep))
                out.append(pa.table({"source": t.column("source").cast(pa.string()), "id": t.column("id"),
                                     "text": t.column("text")}, schema=TEXTS_SCHEMA))
        texts = pa.concat_tables(out) if out else TEXTS_SCHEMA.empty_table()
        stats.docs_in = texts.num_rows
        atomic_write_bytes(self.work / "texts" / f"{spec['part']}.parquet", _parquet_bytes(texts))


def map_small(ctx: StageContext, factory, specs: list[dict[str, Any]], *, label: str, work: Path,
              inline: bool) -> list[PartStats]:
    """`ctx.map_parts`, or, for work too small to pay for starting actors (`inline`, decided from
    a fixed size bound, so the driver's memory stays bounded), the same part tasks run here, one
    after the other. The outputs are the same either way."""
    if not inline:
        return ctx.map_parts(factory, specs, label=label, work=work)
    done = done_parts(work)
    task = None
    for spec in specs:
        if spec["part"] not in done:
            if task is None:
                task = factory()
                task.setup()
            task.run(spec)
            release_memory()  # as a worker does after a task: the driver keeps none of it
    wanted = {s["part"] for s in specs}
    return [p for p in load_part_stats(work) if p.part in wanted]


class _SampleFactory:
    def __init__(self, *args):
        self.args = args

    def __call__(self) -> SamplePartTask:
        return SamplePartTask(*self.args)


def _key_specs(ctx: StageContext) -> list[dict[str, Any]]:
    sel_dir = selection_dir(ctx.output) if ctx.cfg.mixture.enabled else None
    if sel_dir is not None:
        sizes = storage.list_sizes(sel_dir, "*.parquet")
        return [{"round": "keys", "kind": "selection", "part": name.removesuffix(".parquet"), "input": str(sel_dir / name),
                 "size": n} for name, n in sorted(sizes.items())]
    return [{"round": "keys", "kind": "documents", "part": p.stem, "input": str(p), "size": storage.size(p)}
            for p in ctx.inputs]


def _small(ctx: StageContext) -> bool:
    return sum(storage.size(p) for p in ctx.inputs) <= INLINE_BYTES


def sample_ids(ctx: StageContext) -> list[tuple[str, str]]:
    """(source, id) of the training sample, in training order: by source, then by (key, id)."""
    cfg = ctx.cfg
    work = ctx.work / "sample"
    factory = _SampleFactory(str(work), cfg.seed, cfg.mixture.bytes_per_token)
    specs = _key_specs(ctx)
    parts = map_small(ctx, factory, specs, label="tokenizer sample keys", work=work, inline=_small(ctx))
    tokens: Counter = Counter()
    for p in parts:
        tokens.update({k.split(":", 1)[1]: v for k, v in p.counters.items() if k.startswith("tokens:")})
    total = float(sum(tokens.values())) or 1.0
    hist: dict[str, np.ndarray] = {}
    for sp in specs:  # one small file at a time
        h = storage.read_table(work / "hist" / f"{sp['part']}.parquet")
        for s, b, c in zip(h.column("source").to_pylist(), h.column("bucket").to_pylist(), h.column("chars").to_pylist()):
            hist.setdefault(s, np.zeros(1 << HIST_BITS, np.int64))[b] += c
    budgets = {s: cfg.tokenizer.sample_chars * float(tokens[s]) / total for s in sorted(hist)}
    limits = {}
    for s, budget in budgets.items():
        j = int(np.searchsorted(np.cumsum(hist[s]), budget, side="right"))  # the bucket where the budget is passed
        limits[s] = (j + 1) << (64 - HIST_BITS) if j + 1 < 1 << HIST_BITS else None  # None: every document
    # only the rows below each source's threshold
    cands = [_below(work / "keys" / f"{sp['part']}.parquet", limits) for sp in specs] if limits else []
    cand = pa.concat_tables(cands) if cands else KEYS_SCHEMA.empty_table()
    picked: list[tuple[str, str]] = []
    for s, budget in budgets.items():
        t = cand.filter(pc.equal(cand.column("source"), s))
        t = t.take(pc.sort_indices(t, [("key", "ascending"), ("id", "ascending")]))
        if not t.num_rows:
            continue
        k = max(1, int(np.searchsorted(np.cumsum(t.column("chars").to_numpy()), budget, side="right")))
        picked.extend((s, i) for i in t.column("id").to_pylist()[:k])
    return picked


def _below(path: Path, limits: dict[str, int | None]) -> pa.Table:
    """The rows of a keys file (sorted by key) whose source has a limit and whose key is below it
    (None: every row of the source), read a row group at a time until one starts past every limit.
    Not a pyarrow.dataset filter: importing and running that on the driver cost it 176 MiB of RSS
    (measured on bench_scaling's corpus), for files this small."""
    finite = [v >> 32 for v in limits.values() if v is not None]
    stop = None if len(finite) < len(limits) else max(finite)  # past this `top`, no source wants a row
    out = []
    pf = storage.parquet_file(path)
    for g in range(pf.metadata.num_row_groups):
        t = pf.read_row_group(g)
        keep = np.zeros(t.num_rows, bool)
        src = t.column("source")
        top = t.column("top").to_numpy()
        for s, v in limits.items():
            m = pc.equal(src, s).to_numpy(zero_copy_only=False)
            keep |= m if v is None else m & (top < (v >> 32))
        out.append(t.filter(pa.array(keep)))
        if stop is not None and t.num_rows and int(top.min()) >= stop:
            break
    return pa.concat_tables(out) if out else KEYS_SCHEMA.empty_table()


def _fetch_texts(ctx: StageContext, picked: list[tuple[str, str]]) -> tuple[Path, list[Path]]:
    """Workers fetch the picked documents' texts part by part; returns (the picked list's file,
    the texts files): `ordered_texts` reads them in the picked order."""
    work = ctx.work / "sample"
    path = work / "picked.parquet"
    atomic_write_bytes(path, _parquet_bytes(pa.table({"source": [s for s, _ in picked], "id": [i for _, i in picked]},
                                                     schema=pa.schema([("source", pa.string()), ("id", pa.string())]))))
    specs = [{"round": "texts", "part": p.stem, "input": str(p), "picked": str(path), "size": storage.size(p)}
             for p in ctx.inputs]
    twork = work / "texts-round"
    map_small(ctx, _SampleFactory(str(twork), ctx.cfg.seed, ctx.cfg.mixture.bytes_per_token), specs,
              label="tokenizer sample texts", work=twork, inline=_small(ctx))
    return path, [twork / "texts" / f"{sp['part']}.parquet" for sp in specs]


def ordered_texts(picked_file: str | Path, text_files: list[str] | list[Path]) -> list[str]:
    """The texts of the picked documents, in the picked order."""
    picked = storage.read_table(picked_file)
    want = {key: n for n, key in enumerate(zip(picked.column("source").to_pylist(), picked.column("id").to_pylist()))}
    texts: list[str] = [""] * len(want)
    for f in text_files:
        t = storage.read_table(f)
        for s, i, text in zip(t.column("source").to_pylist(), t.column("id").to_pylist(), t.column("text").to_pylist()):
            texts[want[(s, i)]] = text
    return texts


def _train(ctx: StageContext, picked_file: Path, text_files: list[Path]) -> tuple[str, int]:
    """Train on the sample as one task (on a worker; here for small inputs): the driver never holds
    the sample's texts. Returns (tokenizer.json text, characters trained on)."""
    work = ctx.work / "train"
    spec = {"round": "train", "part": "train", "picked": str(picked_file), "texts": [str(f) for f in text_files],
            "tokenizer": ctx.cfg.tokenizer.model_dump(mode="json")}
    [stats] = map_small(ctx, _SampleFactory(str(work), ctx.cfg.seed, ctx.cfg.mixture.bytes_per_token), [spec],
                        label="tokenizer training", work=work, inline=_small(ctx))
    return storage.location(work / TOKENIZER_FILE).read_text(encoding="utf-8"), int(stats.counters.get("chars", 0))


class TokenizerStage(Stage):
    name = "tokenizer"
    published = ("tokenizer",)  # under output; its files are in the stage marker
    config_keys = ("tokenizer", "mixture", "sources")
    documents = False

    def run(self, ctx: StageContext) -> StageResult:
        tcfg = ctx.cfg.tokenizer
        final = ctx.output / TOKENIZER_DIR
        tmp = ctx.work / "publish"  # written here, then published as a whole (storage.publish_folder)
        storage.remove_tree(tmp)
        t0 = time.perf_counter()
        picked: list[tuple[str, str]] = []
        chars = 0
        if tcfg.path:
            src = Path(tcfg.path) if Path(tcfg.path).is_absolute() else (ctx.base_dir or Path.cwd()) / tcfg.path
            if not src.is_file():
                from pipelines.errors import ConfigError

                raise ConfigError(f"tokenizer.path: {tcfg.path}: file not found")
            tok = load_tokenizer(src)
            origin = str(src)
            text = tokenizer_json(tok)
        else:
            picked = sample_ids(ctx)
            log(f"tokenizer: training byte-level BPE (vocab {tcfg.vocab_size:,}) on {len(picked):,} documents")
            text, chars = _train(ctx, *_fetch_texts(ctx, picked))
            from tokenizers import Tokenizer

            tok = specials_as_text(Tokenizer.from_str(text))
            origin = "trained"
        atomic_write_bytes(tmp / "tokenizer.json", text.encode("utf-8"))
        atomic_write_bytes(tmp / "sample_ids.txt", "".join(f"{s}\t{i}\n" for s, i in picked).encode("utf-8"))
        info = {**describe(tok), "sha256": sha256_text(text), "origin": origin, "sample_documents": len(picked),
                "sample_chars": chars, "sample_by_source": dict(sorted(Counter(s for s, _ in picked).items()))}
        atomic_write_json(tmp / "info.json", info)  # no timings here: outputs must be byte-identical
        storage.publish_folder(tmp, final, last="info.json")
        n = len(picked)
        extra = {**info, "train_seconds": round(time.perf_counter() - t0, 3)}  # timings go to the report only
        return StageResult(stats=PartStats(docs_in=n, docs_out=n, bytes_in=chars, bytes_out=chars), extra=extra)


def tokenizer_path(cfg: Config, output: Path, base_dir: Path | None = None) -> Path:
    """The tokenizer the shards stage uses: this run's, else `tokenizer.path`."""
    own = output / TOKENIZER_DIR / TOKENIZER_FILE
    if cfg.tokenizer.enabled or not cfg.tokenizer.path:
        if not own.is_file():
            from pipelines.errors import ConfigError

            raise ConfigError("shards: no tokenizer: enable the tokenizer stage or set tokenizer.path")
        return own
    p = Path(cfg.tokenizer.path)
    return p if p.is_absolute() else (base_dir or Path.cwd()) / p


def info(output: Path) -> dict[str, Any]:
    import json

    p = output / TOKENIZER_DIR / "info.json"
    return json.loads(p.read_text()) if p.is_file() else {}

"""The tokenizer stage: train byte-level BPE on a sample of the mixture drawn by weight, or take
the user's tokenizer.json. Writes `OUTPUT/tokenizer/` atomically: `tokenizer.json`,
`sample_ids.txt` (SOURCE<TAB>ID per line, in training order) and `info.json`.

The sample: each source gets `sample_chars × its planned share` characters, filled with its
selected documents in `doc_key(seed, id, "tokenizer")` order. Only the sampled texts are held in
memory, so memory is bounded by `sample_chars` whatever the corpus size. Training runs on the
driver: the BPE trainer needs the global pair counts anyway, and it is multithreaded.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.config import Config
from pipelines.mixture import doc_keys, estimate_catalog, plan_and_select, selection_dir
from pipelines.parts import PartStats, atomic_write_json
from pipelines.progress import log
from pipelines.stage import Stage, StageContext, StageResult
from tokenizer.train import describe, load_tokenizer, sha256_text, tokenizer_json, train_bpe

TOKENIZER_DIR = "tokenizer"
TOKENIZER_FILE = "tokenizer.json"


def _selection(ctx: StageContext) -> pa.Table:
    """(source, id, chars, selected tokens) per unique document of the mixture's selection."""
    sel_dir = selection_dir(ctx.output) if ctx.cfg.mixture.enabled else None
    if sel_dir is not None:
        sel = pa.concat_tables([pq.read_table(p) for p in sorted(sel_dir.glob("*.parquet"))])
    else:  # no mixture stage: every document once
        sel = plan_and_select(ctx.cfg, estimate_catalog(ctx.inputs, ctx.cfg.mixture.bytes_per_token)[0])[2]
    return sel.group_by(["source", "id"], use_threads=False).aggregate([("chars", "max"), ("tokens", "sum")])


def sample_ids(ctx: StageContext) -> list[tuple[str, str]]:
    """(source, id) of the training sample, in training order: by source, then by hash."""
    cfg = ctx.cfg
    sel = _selection(ctx)
    sources = np.array(sel.column("source").to_pylist(), dtype=object)
    ids = sel.column("id").to_pylist()
    chars = sel.column("chars_max").to_numpy()
    selected = sel.column("tokens_sum").to_numpy()  # tokens of the document in the mix, epochs included
    total = float(selected.sum()) or 1.0
    picked: list[tuple[str, str]] = []
    for s in sorted(set(sources.tolist())):
        rows = np.flatnonzero(sources == s)
        rows = rows[np.argsort(np.array([ids[i] for i in rows], dtype=object), kind="stable")]
        budget = cfg.tokenizer.sample_chars * float(selected[rows].sum()) / total
        src_ids = [ids[i] for i in rows]
        order = np.argsort(doc_keys(cfg.seed, src_ids, "tokenizer"), kind="stable")
        k = max(1, int(np.searchsorted(np.cumsum(chars[rows][order]), budget, side="right")))
        picked.extend((s, src_ids[i]) for i in order[:k])
    return picked


def _sample_texts(inputs: list[Path], picked: list[tuple[str, str]]) -> list[str]:
    """Texts of the picked documents in the picked order, read part by part (only those kept)."""
    want = {key: n for n, key in enumerate(picked)}
    by_src: dict[str, list[str]] = {}
    for s, i in picked:
        by_src.setdefault(s, []).append(i)
    texts: list[str] = [""] * len(picked)
    for path in inputs:
        src = path.stem.rsplit("-", 1)[0]
        if src not in by_src:
            continue
        value_set = pa.array(by_src[src], pa.string())
        for rb in pq.ParquetFile(path).iter_batches(batch_size=4096, columns=["id", "text"]):
            t = pa.Table.from_batches([rb])
            t = t.filter(pc.is_in(t.column("id"), value_set=value_set))
            for i, text in zip(t.column("id").to_pylist(), t.column("text").to_pylist()):
                texts[want[(src, i)]] = text
    return texts


class TokenizerStage(Stage):
    name = "tokenizer"
    config_keys = ("tokenizer", "mixture", "sources")
    documents = False

    def run(self, ctx: StageContext) -> StageResult:
        tcfg = ctx.cfg.tokenizer
        final = ctx.output / TOKENIZER_DIR
        tmp = ctx.output / f".{TOKENIZER_DIR}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
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
        else:
            picked = sample_ids(ctx)
            texts = _sample_texts(ctx.inputs, picked)
            chars = sum(len(t) for t in texts)
            log(f"tokenizer: training byte-level BPE (vocab {tcfg.vocab_size:,}) on {len(texts):,} documents, {chars:,} chars")
            tok = train_bpe(texts, tcfg)
            del texts
            origin = "trained"
        text = tokenizer_json(tok)
        (tmp / "tokenizer.json").write_text(text, encoding="utf-8")
        (tmp / "sample_ids.txt").write_text("".join(f"{s}\t{i}\n" for s, i in picked), encoding="utf-8")
        info = {**describe(tok), "sha256": sha256_text(text), "origin": origin, "sample_documents": len(picked),
                "sample_chars": chars, "sample_by_source": dict(sorted(Counter(s for s, _ in picked).items()))}
        atomic_write_json(tmp / "info.json", info)  # no timings here: outputs must be byte-identical
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
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

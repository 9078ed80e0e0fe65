"""Statistics of a shard folder (for `grist stats` and the HTML report): totals per split and
source, share vs target and epochs, document length percentiles, shard sizes, tokenizer, and a
checksum verification of every shard against the manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from shards.format import Manifest, flat_tokens, open_shard, sha256_file, verify_shards

PERCENTILES = (5, 25, 50, 75, 95, 99)


def doc_lengths(folder: Path, manifest: Manifest) -> dict[str, np.ndarray]:
    """Tokens per document (end-of-text included), per source, read from the memory-mapped shards."""
    parts: dict[str, list[np.ndarray]] = {}
    for info in manifest.shards:
        table = open_shard(Path(folder) / info.file)
        _, offsets = flat_tokens(table)
        lens = np.diff(offsets)
        src = table.column("source").combine_chunks().dictionary_encode()
        codes = src.indices.to_numpy()
        for k, name in enumerate(src.dictionary.to_pylist()):
            parts.setdefault(name, []).append(lens[codes == k])
    return {s: np.concatenate(v) for s, v in sorted(parts.items())}


def percentiles(x: np.ndarray) -> dict[str, float]:
    if not len(x):
        return {}
    out = {f"p{p}": float(np.percentile(x, p)) for p in PERCENTILES}
    out.update(mean=float(x.mean()), min=int(x.min()), max=int(x.max()))
    return out


def compute_stats(folder: Path, verify: bool = True) -> dict[str, Any]:
    folder = Path(folder)
    m = Manifest.load(folder)
    problems = verify_shards(folder, m) if verify else []
    tok_file = folder / m.tokenizer_path
    tok_ok = tok_file.is_file() and sha256_file(tok_file) == m.tokenizer_sha256
    if verify and not tok_ok:
        problems.append(f"{m.tokenizer_path}: missing or sha256 mismatch")
    totals = m.totals()
    all_tokens = sum(t["tokens"] for t in totals.values()) or 1
    by_src_tokens: dict[str, int] = {}
    by_src_docs: dict[str, int] = {}
    for t in totals.values():
        for s, n in t["tokens_by_source"].items():
            by_src_tokens[s] = by_src_tokens.get(s, 0) + n
        for s, n in t["documents_by_source"].items():
            by_src_docs[s] = by_src_docs.get(s, 0) + n
    plan = {r["source"]: r for r in m.extra.get("mixture", [])}
    val = totals.get("val", {})
    sources = []
    for s in sorted(set(by_src_tokens) | set(plan)):
        r = plan.get(s, {})
        sources.append({
            "source": s, "tokens": by_src_tokens.get(s, 0), "documents": by_src_docs.get(s, 0),
            "share": by_src_tokens.get(s, 0) / all_tokens, "target_share": r.get("target_share"),
            "planned_share": r.get("planned_share"), "epochs": r.get("realized_epochs"), "capped": r.get("capped"),
            "planned_epochs": r.get("epochs"), "val_tokens": val.get("tokens_by_source", {}).get(s, 0),
            "val_documents": val.get("documents_by_source", {}).get(s, 0),
        })
    lengths = doc_lengths(folder, m)
    everything = np.concatenate(list(lengths.values())) if lengths else np.zeros(0, np.int64)
    sizes = np.array([s.bytes for s in m.shards]) if m.shards else np.zeros(0)
    return {
        "folder": str(folder),
        "checksums": {"verified": verify, "ok": not problems, "problems": problems, "files": len(m.shards)},
        "tokenizer": {"vocab_size": m.vocab_size, "dtype": m.dtype, "eot_id": m.eot_id, "sha256": m.tokenizer_sha256,
                      "path": m.tokenizer_path, **{k: v for k, v in m.extra.get("tokenizer", {}).items()
                                                  if k in ("model", "pre_tokenizer", "special_tokens")}},
        "tokens": sum(t["tokens"] for t in totals.values()),
        "documents": sum(t["documents"] for t in totals.values()),
        "splits": {k: {"tokens": v["tokens"], "documents": v["documents"], "shards": v["shards"]} for k, v in sorted(totals.items())},
        "sources": sources,
        "target_tokens": m.extra.get("target_tokens"),
        "lengths": {"all": percentiles(everything), **{s: percentiles(v) for s, v in lengths.items()}},
        "shards": {"count": len(m.shards), "bytes": int(sizes.sum()), "bytes_min": int(sizes.min()) if len(sizes) else 0,
                   "bytes_mean": float(sizes.mean()) if len(sizes) else 0.0, "bytes_max": int(sizes.max()) if len(sizes) else 0},
        "val": m.extra.get("val", {}),  # the split's rule and per-source counts (absent in older manifests)
        "warnings": m.extra.get("warnings", []),
        "exports": m.extra.get("exports", {}),
        "config_hash": m.config_hash,
        "seed": m.seed,
    }


def sample_documents(folder: Path, n: int = 3, max_chars: int = 600) -> list[dict[str, Any]]:
    """The first `n` documents of the first shard, decoded with the shard folder's tokenizer."""
    from tokenizer.train import load_tokenizer

    folder = Path(folder)
    m = Manifest.load(folder)
    if not m.shards or not (folder / m.tokenizer_path).is_file():
        return []
    tok = load_tokenizer(folder / m.tokenizer_path)
    table = open_shard(folder / m.shards[0].file).slice(0, n)
    flat, offsets = flat_tokens(table)
    out = []
    for i in range(table.num_rows):
        ids = flat[offsets[i]: offsets[i + 1]].tolist()
        text = tok.decode(ids, skip_special_tokens=False)
        out.append({"id": table.column("id")[i].as_py(), "source": table.column("source")[i].as_py(),
                    "tokens": len(ids), "text": text[:max_chars] + ("…" if len(text) > max_chars else "")})
    return out


def quality_scores(documents: Path) -> dict[str, np.ndarray]:
    """`quality_score` per source from a documents/ folder, when the filters stage wrote one."""
    from pipelines import storage

    out: dict[str, list[np.ndarray]] = {}
    for f in storage.list_files(documents, "*.parquet"):
        if "quality_score" not in storage.parquet_file(f).schema_arrow.names:
            continue
        t = storage.read_table(f, columns=["source", "quality_score"])
        scores = t.column("quality_score").cast(pa.float64()).to_numpy(zero_copy_only=False)
        for s in set(t.column("source").to_pylist()):
            mask = np.array(t.column("source").to_pylist()) == s
            out.setdefault(s, []).append(scores[mask])
    merged = {s: np.concatenate(v) for s, v in sorted(out.items())}
    # Sources the classifier did not score have only nulls (NaN here): nothing to plot for them.
    return {s: v[~np.isnan(v)] for s, v in merged.items() if (~np.isnan(v)).any()}

"""The shard format: uncompressed Arrow IPC files + manifest.json.

Columns `id` (string), `source` (string), `tokens` (list<uint16> when the vocabulary fits, else
list<uint32>). The token values of a shard are one flat buffer and the list offsets are the
document boundaries, so a reader memory-maps the file and sees every token as one numpy array
without copying. Every document ends with the end-of-text token.

Schema metadata (`grist.*` keys) and `manifest.json` carry dtype, vocab size, eot id, tokenizer
sha256 and split; the manifest also holds per-shard sha256 and token/document counts per source.
`extra` holds the mixture table, `planned_epochs` per source (its repeats are already in the train
shards: one pass over them is the plan) and `val` (the split's rule and per-source documents,
tokens and whether a floor was short; see `shards.split`). Token offsets are int32: a shard holds
at most 2^31-1 tokens (`shards.config.MAX_SHARD_TOKENS`).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pyarrow as pa

MANIFEST = "manifest.json"
FORMAT_NAME = "grist-shards"
FORMAT_VERSION = 1


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 1 << 16 else np.dtype(np.uint32)


def shard_schema(vocab_size: int, metadata: dict[str, str] | None = None) -> pa.Schema:
    value_type = pa.uint16() if token_dtype(vocab_size) == np.uint16 else pa.uint32()
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("source", pa.string(), nullable=False),
            pa.field("tokens", pa.list_(pa.field("item", value_type, nullable=False)), nullable=False),
        ],
        metadata={f"grist.{k}": str(v) for k, v in (metadata or {}).items()},
    )


def tokens_array(flat: np.ndarray, offsets: np.ndarray, vocab_size: int) -> pa.ListArray:
    """A list array from one flat token buffer and document offsets, stored as int32 (no per-document
    copy). More than 2^31-1 tokens is refused: the cast would wrap silently."""
    if len(offsets) and int(offsets[-1]) > np.iinfo(np.int32).max:
        raise ValueError(f"{int(offsets[-1]):,} tokens in one shard: over 2^31-1 (int32 list offsets)")
    dtype = token_dtype(vocab_size)
    values = pa.array(np.ascontiguousarray(flat, dtype=dtype))
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32, copy=False)), values)


def sha256_file(path: Path) -> str:
    from pipelines.storage import sha256_of

    return sha256_of(path)


def _strings(values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.string()) if isinstance(values, pa.Array) else pa.array(values, pa.string())


@contextlib.contextmanager
def ipc_writer(path: Path, schema: pa.Schema, *, durable: bool = True) -> Iterator[tuple[Any, Any]]:
    """An Arrow IPC file writer and the `pipelines.storage.PendingFile` under it: the file is
    committed whole when the block ends, and the pending file's `record` then holds the bytes and
    sha256 that the storage layer counted while writing (the one hash of a shard: no second pass,
    no re-read)."""
    from pipelines.storage import pending_commit

    with pending_commit(path, durable=durable) as pending:
        with pa.ipc.new_file(pa.PythonFile(pending.file, mode="w"), schema) as writer:
            yield writer, pending


def write_shard(path: Path, ids, sources, tokens: pa.ListArray, schema: pa.Schema) -> tuple[str, int]:
    """Write one uncompressed IPC file, committed whole; returns its (sha256, bytes), computed while
    writing (no re-read). `ids` / `sources`: lists or Arrow string arrays."""
    table = pa.Table.from_arrays([_strings(ids), _strings(sources), tokens], schema=schema)
    with ipc_writer(path, schema) as (writer, pending):
        writer.write_table(table)
    return pending.record["sha256"], pending.record["bytes"]


def open_shard(path: Path) -> pa.Table:
    """Memory-map a shard: no token is copied (check with `pa.total_allocated_bytes()`); a shard on
    an object store is read whole."""
    from pipelines import storage

    return pa.ipc.open_file(storage.open_arrow(path)).read_all()


def flat_tokens(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(flat token array, document offsets) of a shard table, both zero-copy views."""
    col = table.column("tokens")
    arr = col.chunk(0) if col.num_chunks == 1 else pa.concat_arrays(col.chunks)
    offsets = arr.offsets.to_numpy(zero_copy_only=True)
    values = arr.values.to_numpy(zero_copy_only=True)
    return values[offsets[0]: offsets[-1]], offsets - offsets[0]


@dataclass
class ShardInfo:
    file: str
    split: str  # "train" | "val"
    sha256: str
    tokens: int
    documents: int
    bytes: int
    tokens_by_source: dict[str, int] = field(default_factory=dict)
    documents_by_source: dict[str, int] = field(default_factory=dict)


@dataclass
class Manifest:
    dtype: str
    vocab_size: int
    eot_id: int
    tokenizer_sha256: str
    tokenizer_path: str  # relative to the shard folder
    config_hash: str
    seed: int
    shards: list[ShardInfo] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # mixture table, export paths, ...
    format: str = FORMAT_NAME
    version: int = FORMAT_VERSION

    def totals(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for s in self.shards:
            t = out.setdefault(s.split, {"tokens": 0, "documents": 0, "shards": 0, "tokens_by_source": {}, "documents_by_source": {}})
            t["tokens"] += s.tokens
            t["documents"] += s.documents
            t["shards"] += 1
            for k, v in s.tokens_by_source.items():
                t["tokens_by_source"][k] = t["tokens_by_source"].get(k, 0) + v
            for k, v in s.documents_by_source.items():
                t["documents_by_source"][k] = t["documents_by_source"].get(k, 0) + v
        return out

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["totals"] = self.totals()
        return d

    def save(self, folder: Path) -> None:
        from pipelines.parts import atomic_write_json

        from pipelines import storage

        atomic_write_json(storage.location(folder) / MANIFEST, self.to_json())

    @classmethod
    def load(cls, folder: Path) -> "Manifest":
        from pipelines import storage

        path = storage.location(folder) / MANIFEST
        if not storage.exists(path):
            from pipelines.errors import ConfigError

            raise ConfigError(f"{path}: no shard manifest (is this a grist shards folder?)")
        d = json.loads(path.read_text())
        d.pop("totals", None)
        d["shards"] = [ShardInfo(**s) for s in d["shards"]]
        return cls(**d)

    def files(self, split: str | None = None) -> list[ShardInfo]:
        return [s for s in self.shards if split is None or s.split == split]


def verify_shards(folder: Path, manifest: Manifest | None = None) -> list[str]:
    """Check every shard against the manifest's sha256; returns the problems (empty when fine)."""
    manifest = manifest or Manifest.load(folder)
    problems = []
    from pipelines import storage

    for s in manifest.shards:
        p = storage.location(folder) / s.file
        if not storage.exists(p):
            problems.append(f"{s.file}: missing")
        elif sha256_file(p) != s.sha256:
            problems.append(f"{s.file}: sha256 mismatch")
    return problems

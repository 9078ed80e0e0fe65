"""Parts: the files a stage reads and writes, one per input partition, committed atomically.

A stage's work folder holds `kept/PART.parquet`, `dropped/PART.parquet` and `stats/PART.json`. The
stats file is written last and is the part's completion marker: on a rerun a part with a stats file
is not redone. Part names come from the input (source and file index), never from the worker that
wrote them, so outputs are the same for any number of workers.

Every write goes through `pipelines.storage` (POSIX or object store): data objects first, the
stats marker last; readers list only parts whose marker exists.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import storage
from pipelines.document import DROPPED_SCHEMA

PARQUET_OPTS = dict(compression="zstd", compression_level=3, use_dictionary=["source"], write_statistics=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Commit `data` at `path` (local or object store): complete or absent, never partial."""
    storage.commit_bytes(path, data)


def atomic_write_json(path: Path, obj: Any) -> None:
    storage.commit_json(path, obj)


@dataclass
class PartStats:
    """Counts for one part (or, merged, for a stage). `docs_in == docs_out + sum(dropped)` always."""

    part: str = ""
    source: str = ""
    docs_in: int = 0
    docs_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    dropped: Counter = field(default_factory=Counter)
    # Counters that are not document drops: lines removed, PII replaced, texts truncated, ...
    counters: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    # What the marker vouches for: {"kept": {"bytes", "sha256"}, "dropped": {...}}; checked on reuse.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The inputs' state the part was made from (read parts: the files' change stamps); a committed
    # part is reused only for the same key.
    key: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "source": self.source,
            "docs_in": self.docs_in,
            "docs_out": self.docs_out,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "dropped": dict(sorted(self.dropped.items())),
            "counters": dict(sorted(self.counters.items())),
            "seconds": round(self.seconds, 3),
            **({"files": self.files} if self.files else {}),
            **({"key": self.key} if self.key else {}),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "PartStats":
        return cls(
            part=d.get("part", ""),
            source=d.get("source", ""),
            docs_in=d["docs_in"],
            docs_out=d["docs_out"],
            bytes_in=d.get("bytes_in", 0),
            bytes_out=d.get("bytes_out", 0),
            dropped=Counter(d.get("dropped", {})),
            counters=Counter(d.get("counters", {})),
            seconds=d.get("seconds", 0.0),
            files=d.get("files", {}),
            key=d.get("key", ""),
        )

    def merge(self, other: "PartStats") -> "PartStats":
        self.docs_in += other.docs_in
        self.docs_out += other.docs_out
        self.bytes_in += other.bytes_in
        self.bytes_out += other.bytes_out
        self.dropped.update(other.dropped)
        self.counters.update(other.counters)
        self.seconds += other.seconds
        return self

    def check(self) -> None:
        lost = self.docs_in - self.docs_out - sum(self.dropped.values())
        if lost:
            raise AssertionError(f"accounting broken for {self.part or 'stage'}: {lost} documents neither kept nor dropped")


class PartWriter:
    """Streams kept documents and dropped records of one part to temporary files, then commits
    both and the stats marker. Memory is bounded by one batch."""

    def __init__(self, work: Path, part: str, source: str = "", key: str = ""):
        self.work = storage.location(work)
        self.part = part
        self.stats = PartStats(part=part, source=source, key=key)
        self._t0 = time.perf_counter()
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._schemas: dict[str, pa.Schema] = {}
        self._files: dict[str, storage.PendingFile] = {}

    def _final(self, kind: str) -> Path:
        return self.work / kind / f"{self.part}.parquet"

    def _write(self, kind: str, table: pa.Table) -> None:
        if kind not in self._writers:
            pending = storage.PendingFile(self._final(kind))
            self._files[kind] = pending
            self._schemas[kind] = table.schema
            self._writers[kind] = pq.ParquetWriter(pending.file, table.schema, **PARQUET_OPTS)
        elif table.schema != self._schemas[kind]:
            table = table.cast(self._schemas[kind])
        if table.num_rows:
            self._writers[kind].write_table(table)

    def write_kept(self, table: pa.Table) -> None:
        self.stats.docs_out += table.num_rows
        if "text" in table.column_names:
            self.stats.bytes_out += _text_bytes(table)
        self._write("kept", table)

    def write_dropped(self, table: pa.Table) -> None:
        import pyarrow.compute as pc

        if table.num_rows:
            for vc in pc.value_counts(table.column("reason")).to_pylist():
                self.stats.dropped[vc["values"]] += vc["counts"]
        self._write("dropped", table)

    def count_in(self, docs: int, nbytes: int = 0) -> None:
        self.stats.docs_in += docs
        self.stats.bytes_in += nbytes

    def commit(self, kept_schema: pa.Schema | None = None) -> PartStats:
        """Close both files (creating empty ones with the right schema if nothing was written),
        rename them into place, then write the stats marker."""
        if "kept" not in self._writers and kept_schema is not None:
            self._write("kept", kept_schema.empty_table())
        if "dropped" not in self._writers:
            self._write("dropped", DROPPED_SCHEMA.empty_table())
        for kind, w in self._writers.items():
            w.close()
            self._files[kind].commit()
            self.stats.files[kind] = self._files[kind].record
        self.stats.seconds = time.perf_counter() - self._t0
        self.stats.check()
        atomic_write_json(self.work / "stats" / f"{self.part}.json", self.stats.to_json())
        return self.stats

    def abort(self) -> None:
        for kind, w in self._writers.items():
            try:
                w.close()
            finally:
                self._files[kind].abort()


def _text_bytes(table: pa.Table) -> int:
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return 0
    return int(pc.sum(pc.binary_length(table.column("text"))).as_py() or 0)


def text_bytes(table: pa.Table) -> int:
    """UTF-8 bytes of the `text` column."""
    return _text_bytes(table)


def done_parts(work: Path) -> set[str]:
    """Parts of a stage whose stats marker exists (committed)."""
    return {p.stem for p in storage.list_files(storage.location(work) / "stats", "*.json")}


def verified_parts(work: Path, keys: dict[str, str] | None = None) -> set[str]:
    """Committed parts whose files are still what their marker vouches for (same sizes: a file
    truncated or removed since is redone, never reused) and, given `keys` (part -> key), made
    from the same inputs. Sizes come from one listing per folder."""
    work = storage.location(work)
    sizes = {kind: {name.removesuffix(".parquet"): n for name, n in storage.list_sizes(work / kind, "*.parquet").items()}
             for kind in ("kept", "dropped")}
    ok = set()
    for st in load_part_stats(work):
        if keys is not None and keys.get(st.part, "") != st.key:
            continue
        if all(sizes[kind].get(st.part) == rec.get("bytes") for kind, rec in st.files.items()):
            ok.add(st.part)
    return ok


def load_part_stats(work: Path) -> list[PartStats]:
    files = storage.list_files(storage.location(work) / "stats", "*.json")
    return [PartStats.from_json(json.loads(p.read_text())) for p in files]


def kept_parts(work: Path) -> list[Path]:
    """The kept files of committed parts only: a data object without its marker is an attempt that
    died before committing (on an object store it may exist; it is redone, never read)."""
    work = storage.location(work)
    done = done_parts(work)
    return [p for p in storage.list_files(work / "kept", "*.parquet") if p.stem in done]

"""Input listing and read parts of bounded size, named by their content.

The read stage's unit of work is a *part* of about `runtime.part_mb` MB of text, not one input
file: small files of a source are grouped (in listing order) until a part is full, and a large
file is split where its format allows it — by byte ranges, a range owning the records that start
in it: jsonl lines, WARC/WET/ARC records, MediaWiki dump pages; a gzip/bz2 file of several members
(a .warc.gz gzipped per record, a multistream dump, bgzip / pbzip2 jsonl) by the members that start
in the range — and parquet by row groups. A file that is one compressed stream, xz, and code trees
are one part per file: their record boundaries are only found by reading from the start. Which
compressed file is one stream the planner finds out as the readers do (pipelines/sources/pieces.py
`splittable`: a second member start in its first MiB), with one ranged read per file; such a file
is one piece of range [0, size], which its reader reads whole and counts (`unsplit_single_*`).
A .warc.gz is not probed (one member per record is the standard; no read per WARC of a crawl).

A part's name is `SOURCE-HASH`, the hash of what it reads: (path, size, range, position in the
listing); its key holds the files' mtime or etag. A changed, added or removed file changes only
the parts that read it, and the listing (names and keys) is part of the read stage's marker, so a
rerun picks new input up instead of trusting a stale marker; parts whose inputs did not change are
reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pipelines.config import Config
from pipelines.sources.compression import compression_of
from pipelines.sources.files import glob_root, list_paths, resolve_path

# Text is worth about 4x its compressed bytes (gzip/bz2/xz/zstd on natural text: 3-5x).
COMPRESSED_TEXT_FACTOR = 4
# Kinds split by byte ranges, and the compressions (by name) they are split under: a range owns the
# records that start in it (jsonl lines; WARC/ARC records, in a .warc.gz gzip members; dump pages;
# in a compressed file, the records starting in the gzip members / bz2 streams that start in it). A
# compressed file that proves to be one stream is one piece, read whole, which its reader counts
# (pipelines/sources/pieces.py).
RANGE_SPLITS: dict[str, tuple[str | None, ...]] = {"jsonl": (None, "gzip", "bz2"), "web": (None, "gzip"),
                                                   "encyclopedia": (None, "gzip", "bz2")}
_PROBE_THREADS = 16  # probes of large compressed files at once (each one ranged read: I/O bound)
log = logging.getLogger(__name__)


def _info(info: dict[str, Any] | None) -> dict[str, Any]:
    """size and a change stamp (mtime, or the object's etag) of one input, from its listing."""
    if not info:
        return {"size": 0, "stamp": None, "file": False}
    stamp = info.get("mtime") or info.get("ETag") or info.get("etag") or info.get("LastModified") or info.get("created")
    return {"size": int(info.get("size") or 0), "stamp": str(stamp) if stamp is not None else None,
            "file": info.get("type") == "file"}


def list_inputs(cfg: Config, base_dir: Path | None) -> list[dict[str, Any]]:
    """One entry per input file (or code tree) of every source, in listing order:
    {"source", "path", "shown_path", "root", "file_index", "size", "stamp", "file"}.

    One listing call per pattern. A file matched by a relative pattern is recorded relative to
    `base_dir` (the config's folder), as the config writes it, so the same data gives the same
    documents wherever the folder sits (a laptop checkout, a job's working dir); others as they are.
    A file matched by several patterns takes the first pattern's record and root (the reader
    refuses symlinks leading out of its root)."""
    entries = []
    for src in cfg.sources:
        shown: dict[str, str] = {}
        roots: dict[str, str] = {}
        infos: dict[str, dict] = {}
        for pattern in src.paths:
            relative = base_dir is not None and resolve_path(pattern, None) != resolve_path(pattern, base_dir)
            root = glob_root(resolve_path(pattern, base_dir))
            for path, info in list_paths([pattern], base_dir).items():
                shown.setdefault(path, os.path.relpath(path, base_dir) if relative else path)
                roots.setdefault(path, root)
                infos.setdefault(path, info)
        for i, path in enumerate(sorted(shown)):
            info = _info(infos[path])
            if src.kind == "code" and not info["file"]:
                # a tree: keyed by every file's stamp (a folder's mtime misses edits deep inside it;
                # an object-store prefix has none), sized by its bytes
                from pipelines.sources.code import tree_stamp
                info.update(tree_stamp(path) or {})
            entries.append({"source": src.name, "path": path, "shown_path": shown[path], "root": roots[path],
                            "file_index": i, **info})
    return entries


def _stored_bytes(entry: dict[str, Any]) -> int:
    """The bytes of its file a piece stands for (a range's length; a whole file's size)."""
    return entry["range"][1] - entry["range"][0] if entry.get("range") else entry["size"]


def _text_size(entry: dict[str, Any]) -> int:
    return entry["size"] * (COMPRESSED_TEXT_FACTOR if compression_of(entry["path"]) else 1)


def _range_split(entry: dict[str, Any], kind: str, part_bytes: int) -> bool:
    """Whether a file is large enough to be cut into byte ranges and of a format that allows it."""
    return entry["file"] and _text_size(entry) > part_bytes and compression_of(entry["path"]) in RANGE_SPLITS.get(kind, ())


def _probe(entry: dict[str, Any]) -> bool:
    """Whether a compressed file to be cut holds more than one member (pieces.probe_splittable); a
    file that cannot be read now is one piece, whose reader names the error."""
    from pipelines.sources.pieces import probe_splittable

    try:
        return probe_splittable(entry["path"], compression_of(entry["path"]))
    except OSError as exc:
        log.warning("%s: not probed (%s): one part", entry["shown_path"], exc)
        return False


def _pieces(entry: dict[str, Any], kind: str, part_bytes: int, splittable: bool = True) -> list[dict[str, Any]]:
    """A file as one piece, or split into ranges when it is large and its format allows it (a
    compressed one only when `splittable`: else one range over the whole file)."""
    size = entry["size"]
    compression = compression_of(entry["path"])
    if _range_split(entry, kind, part_bytes):
        if not splittable:
            log.info("%s: read whole (one %s stream)", entry["shown_path"], compression)
            return [{**entry, "range": [0, size]}]
        step = max(1, part_bytes // (COMPRESSED_TEXT_FACTOR if compression else 1))
        cuts = list(range(0, size, step)) + [size]
        return [{**entry, "range": [a, b]} for a, b in zip(cuts, cuts[1:])]
    if entry["file"] and _text_size(entry) > part_bytes and kind in RANGE_SPLITS:
        log.info("%s: read whole (%s %s: no record boundaries to find without reading from the start)",
                 entry["shown_path"], compression, kind)
    if entry["file"] and size > part_bytes and kind == "parquet":
        groups = _row_group_sizes(entry["path"])
        pieces, start, acc = [], 0, 0
        for g, nbytes in enumerate(groups):
            acc += nbytes
            if acc >= part_bytes or g == len(groups) - 1:
                pieces.append({**entry, "row_groups": [start, g + 1]})
                start, acc = g + 1, 0
        if len(pieces) > 1:
            return pieces
    return [entry]


def _row_group_sizes(path: str) -> list[int]:
    import pyarrow.parquet as pq

    from pipelines.sources.files import open_binary

    try:
        md = pq.ParquetFile(open_binary(path)).metadata
    except Exception:  # not parquet: the reader names the drop
        return []
    return [md.row_group(g).total_byte_size for g in range(md.num_row_groups)]


def part_name(source: str, files: list[dict[str, Any]]) -> str:
    """`SOURCE-HASH` of what a part reads: (path as the config names it, position, size, range).
    The change stamps are not in the name (a copy of the data elsewhere, with other mtimes, gives
    the same outputs); they are the part's `key`, checked before a committed part is reused."""
    ident = [[f["shown_path"], f["file_index"], f["size"], f.get("range"), f.get("row_groups")] for f in files]
    return f"{source}-{hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:16]}"


def part_key(files: list[dict[str, Any]]) -> str:
    """The inputs' change stamps (mtime or etag): a part whose file was rewritten is read again."""
    return hashlib.sha256(json.dumps([f["stamp"] for f in files]).encode()).hexdigest()[:16]


def plan_read_parts(cfg: Config, base_dir: Path | None) -> list[dict[str, Any]]:
    """The read stage's part specs: {"part", "source", "size", "files": [entry + optional range]}."""
    part_bytes = max(1, int(cfg.runtime.part_mb * 1024 * 1024))
    kinds = {s.name: s.kind for s in cfg.sources}
    specs: list[dict[str, Any]] = []
    group: list[dict[str, Any]] = []

    def flush() -> None:
        if group:
            specs.append({"part": part_name(group[0]["source"], group), "key": part_key(group), "source": group[0]["source"],
                          "size": sum(_stored_bytes(f) for f in group), "files": list(group)})
            group.clear()

    entries = list_inputs(cfg, base_dir)
    # One probe per large compressed file, never per piece; run side by side (listing order kept).
    # A .warc.gz is not probed: one gzip member per record is the standard (Common Crawl's, warcio's),
    # and a crawl of 100k WARCs must not cost 100k reads on the driver; a WARC gzipped whole is still
    # read whole by its first piece (its other pieces find no record and own nothing).
    probed = [e for e in entries if compression_of(e["path"]) and kinds[e["source"]] != "web"
              and _range_split(e, kinds[e["source"]], part_bytes)]
    with ThreadPoolExecutor(min(_PROBE_THREADS, len(probed) or 1)) as pool:
        splittable = dict(zip((id(e) for e in probed), pool.map(_probe, probed)))
    for entry in entries:
        if group and group[0]["source"] != entry["source"]:
            flush()
        kind = kinds[entry["source"]]
        # Code trees and directories stay whole (their files are listed by the reader).
        if kind == "code" or not entry["file"]:
            flush()
            group.append(entry)
            flush()
            continue
        for piece in _pieces(entry, kind, part_bytes, splittable.get(id(entry), True)):
            if "range" in piece or "row_groups" in piece or _text_size(piece) >= part_bytes:
                flush()
                group.append(piece)
                flush()
                continue
            if group and sum(_text_size(f) for f in group) + _text_size(piece) > part_bytes:
                flush()
            group.append(piece)
    flush()
    return specs



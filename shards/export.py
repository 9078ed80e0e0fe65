"""Exports of the shards for other trainers, under `shards/export/`.

- nanoGPT: `train.bin` / `val.bin`, every token of the split as one flat array (uint16 or uint32,
  as the shards), documents separated by their end-of-text token; read with
  `np.memmap(path, dtype, mode="r")`.
- Megatron-LM: `train_text_document.bin` + `.idx` (and `val_...`), the MMIDIDX indexed dataset of
  megatron/core/datasets/indexed_dataset.py: `.bin` holds the tokens; `.idx` is the 9-byte magic
  `MMIDIDX\\x00\\x00`, version u64 = 1, dtype code u8 (8 = uint16, 4 = int32), sequence count u64,
  document count u64, then sequence lengths int32[n], byte pointers int64[n] and document indices
  int64[docs + 1] (`0, 1, ..., n`: one sequence per document). Megatron has no uint32 code, so
  larger vocabularies are written as int32 (ids < 2^31).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from shards.format import Manifest, flat_tokens, open_shard

MMIDIDX_MAGIC = b"MMIDIDX\x00\x00"
MEGATRON_DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}


def _split_arrays(folder: Path, manifest: Manifest, split: str):
    """(flat tokens, offsets) of each shard of a split, in manifest order (memory-mapped)."""
    for info in manifest.files(split):
        yield flat_tokens(open_shard(folder / info.file))


def _atomic(path: Path):
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    return tmp, lambda: os.replace(tmp, path)


def export_nanogpt(folder: Path, manifest: Manifest, split: str) -> Path:
    out = folder / "export" / f"{split}.bin"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp, commit = _atomic(out)
    with open(tmp, "wb") as f:
        for flat, _ in _split_arrays(folder, manifest, split):
            f.write(memoryview(np.ascontiguousarray(flat)))
    commit()
    return out


def export_megatron(folder: Path, manifest: Manifest, split: str) -> tuple[Path, Path]:
    prefix = folder / "export" / f"{split}_text_document"
    bin_path, idx_path = prefix.with_suffix(".bin"), prefix.with_suffix(".idx")
    bin_path.parent.mkdir(parents=True, exist_ok=True)
    dtype = np.dtype(np.uint16) if manifest.dtype == "uint16" else np.dtype(np.int32)
    lengths = []
    tmp_bin, commit_bin = _atomic(bin_path)
    with open(tmp_bin, "wb") as f:
        for flat, offsets in _split_arrays(folder, manifest, split):
            f.write(memoryview(np.ascontiguousarray(flat.astype(dtype, copy=False))))
            lengths.append(np.diff(offsets))
    sizes = np.concatenate(lengths).astype(np.int32) if lengths else np.zeros(0, np.int32)
    pointers = np.zeros(len(sizes), np.int64)
    if len(sizes):
        np.cumsum(sizes[:-1].astype(np.int64) * dtype.itemsize, out=pointers[1:])
    doc_idx = np.arange(len(sizes) + 1, dtype=np.int64)
    tmp_idx, commit_idx = _atomic(idx_path)
    with open(tmp_idx, "wb") as f:
        f.write(MMIDIDX_MAGIC)
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<B", MEGATRON_DTYPE_CODES[dtype]))
        f.write(struct.pack("<Q", len(sizes)))
        f.write(struct.pack("<Q", len(doc_idx)))
        f.write(sizes.tobytes(order="C"))
        f.write(pointers.tobytes(order="C"))
        f.write(doc_idx.tobytes(order="C"))
    commit_bin()
    commit_idx()
    return bin_path, idx_path


def read_megatron_index(idx_path: Path) -> dict:
    """Parse an MMIDIDX `.idx` (for tests and `grist stats`)."""
    buf = Path(idx_path).read_bytes()
    if buf[:9] != MMIDIDX_MAGIC:
        raise ValueError(f"{idx_path}: not an MMIDIDX index")
    version, = struct.unpack_from("<Q", buf, 9)
    code, = struct.unpack_from("<B", buf, 17)
    n, ndocs = struct.unpack_from("<QQ", buf, 18)
    pos = 34
    sizes = np.frombuffer(buf, np.int32, n, pos)
    pos += 4 * n
    pointers = np.frombuffer(buf, np.int64, n, pos)
    pos += 8 * n
    doc_idx = np.frombuffer(buf, np.int64, ndocs, pos)
    return {"version": version, "dtype_code": code, "sizes": sizes, "pointers": pointers, "doc_idx": doc_idx}


def write_exports(folder: Path, manifest: Manifest, kinds: list[str]) -> dict[str, list[str]]:
    """Write the requested exports for every split present; returns {kind: [relative paths]}."""
    out: dict[str, list[str]] = {}
    splits = sorted({s.split for s in manifest.shards})
    for kind in kinds:
        paths: list[Path] = []
        for split in splits:
            if kind == "nanogpt":
                paths.append(export_nanogpt(folder, manifest, split))
            elif kind == "megatron":
                paths.extend(export_megatron(folder, manifest, split))
        out[kind] = [str(p.relative_to(folder)) for p in paths]
    return out

"""Exports of the shards for other trainers, under `shards/export/`.

Every export is written shard by shard: a shard's piece has a known place (its own file, or a byte
offset in its split's file computed from the manifest's token counts), so the pieces can be written
in any order, by parallel workers, into a pre-sized temporary file that is renamed when complete.

- nanoGPT (`nanogpt`): `train.bin` / `val.bin`, every token of the split as one flat uint16 array in
  shard order, each document followed by its end-of-text token (as nanoGPT's openwebtext/prepare.py
  lays them out), read by train.py as `np.memmap(path, dtype=np.uint16, mode="r")`; and `meta.pkl`
  with `vocab_size` (train.py sizes the model from it, else 50304). sample.py reads `stoi` and
  `itos` as soon as a meta.pkl exists, so they are there too: `itos[id]` is the id decoded alone and
  `stoi` the characters that are a token on their own; sample.py's char-by-char encode and joined
  decode are then exact for ASCII text (a multi-byte character split over several tokens decodes
  to U+FFFD there; `tokenizer.json` in the shard folder is the real tokenizer). nanoGPT reads uint16
  only, so a vocabulary over 65,536 ids is refused: one warning line, recorded under
  `exports.refused.nanogpt`, nothing written.
- llm.c / modded-nanogpt (`llmc`): one `grist_{split}_{k:06d}.bin` per shard (k: the shard's rank in
  its split, so `sorted(glob("grist_train_*.bin"))` is shard order), laid out as llm.c's
  dev/data/data_common.py `write_datafile`: 256 int32 (magic 20240520, version 1, token count),
  then uint16 tokens. Vocabularies over 65,536 ids get its "llama-3" header (20240801, version 7)
  and uint32 tokens, which llm.c's train_llama3.py reads and modded-nanogpt does not. Each document
  is *preceded* by the end-of-text token, as llm.c's fineweb.py writes them (modded-nanogpt starts
  its windows at these BOS positions): the shard's tokens rotated by one, same count. The C loader
  needs at least B*T+1 tokens per file; a small val shard can be below that.
- Megatron-LM (`megatron`): `train_text_document.bin` + `.idx` (and `val_...`), the MMIDIDX indexed
  dataset of megatron/core/datasets/indexed_dataset.py: `.bin` holds the tokens; `.idx` is the 9-byte
  magic `MMIDIDX\\x00\\x00`, version u64 = 1, dtype code u8 (8 = uint16, 4 = int32), sequence count
  u64, document count u64, then sequence lengths int32[n], byte pointers int64[n] and document
  indices int64[docs + 1] (`0, 1, ..., n`: one sequence per document). Megatron has no uint32 code,
  so larger vocabularies are written as int32 (ids < 2^31).
"""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import numpy as np

from pipelines.progress import log
from shards.format import Manifest, ShardInfo, flat_tokens, open_shard

EXPORT_DIR = "export"
KINDS = ("nanogpt", "llmc", "megatron")
MMIDIDX_MAGIC = b"MMIDIDX\x00\x00"
MEGATRON_DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}
LLMC_HEADER_INTS = 256
# data_common.py HEADERS_INFO: "gpt-2" (uint16) and "llama-3" (uint32) -> (magic, version)
LLMC_MAGIC = {np.dtype(np.uint16): (20240520, 1), np.dtype(np.uint32): (20240801, 7)}


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _presized(path: Path, nbytes: int) -> Path:
    """A temporary file of `nbytes` bytes beside `path`, for pieces written at their offsets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    with open(tmp, "wb") as f:
        f.truncate(nbytes)
    return tmp


def shard_flat(folder: Path, info: ShardInfo) -> tuple[np.ndarray, np.ndarray]:
    """(flat tokens, offsets) of one shard, memory-mapped."""
    return flat_tokens(open_shard(Path(folder) / info.file))


def write_piece(path: Path, offset: int, tokens: np.ndarray) -> None:
    """Write `tokens` at byte `offset` of an existing file (one shard's piece of a split file)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(memoryview(np.ascontiguousarray(tokens)).cast("B"))  # BufferedRandom writes it all


def piece_offsets(infos: list[ShardInfo], itemsize: int) -> np.ndarray:
    """Byte offset of each shard's tokens in its split's concatenated file, and the total last."""
    out = np.zeros(len(infos) + 1, np.int64)
    np.cumsum([s.tokens * itemsize for s in infos], out=out[1:])
    return out


def _concat_split(folder: Path, infos: list[ShardInfo], out: Path, dtype: np.dtype) -> list[np.ndarray]:
    """The shards' tokens, cast to `dtype`, one piece per shard at its offset; returns the document
    lengths of each shard (for an index)."""
    offsets = piece_offsets(infos, dtype.itemsize)
    tmp = _presized(out, int(offsets[-1]))
    lengths = []
    for info, off in zip(infos, offsets):
        flat, doc_offsets = shard_flat(folder, info)
        write_piece(tmp, int(off), flat.astype(dtype, copy=False))
        lengths.append(np.diff(doc_offsets))
    os.replace(tmp, out)
    return lengths


def refusal(kind: str, manifest: Manifest) -> str | None:
    """Why `kind` cannot be written for these shards (one line), or None."""
    if kind == "nanogpt" and manifest.dtype != "uint16":
        return (f"nanogpt export refused: {manifest.vocab_size:,} token ids need {manifest.dtype} and nanoGPT's "
                "train.py reads np.uint16 (use the llmc or megatron export)")
    return None


def nanogpt_meta(folder: Path, manifest: Manifest) -> dict:
    """What nanoGPT reads from meta.pkl: train.py `vocab_size`, sample.py `stoi`/`itos`."""
    meta = {"vocab_size": manifest.vocab_size, "eot_id": manifest.eot_id, "dtype": manifest.dtype,
            "tokenizer": manifest.tokenizer_path}
    tok_file = Path(folder) / manifest.tokenizer_path
    if tok_file.is_file():
        from tokenizer.train import load_tokenizer

        tok = load_tokenizer(tok_file)
        pieces = tok.decode_batch([[i] for i in range(manifest.vocab_size)], skip_special_tokens=False)
        meta["itos"] = dict(enumerate(pieces))
        stoi: dict[str, int] = {}
        for i, s in enumerate(pieces):
            if len(s) == 1 and s != "\ufffd":
                stoi.setdefault(s, i)
        meta["stoi"] = stoi
    return meta


def export_nanogpt_meta(folder: Path, manifest: Manifest) -> Path:
    out = Path(folder) / EXPORT_DIR / "meta.pkl"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(out)
    with open(tmp, "wb") as f:
        pickle.dump(nanogpt_meta(folder, manifest), f)
    os.replace(tmp, out)
    return out


def export_nanogpt(folder: Path, manifest: Manifest, split: str) -> Path:
    out = Path(folder) / EXPORT_DIR / f"{split}.bin"
    _concat_split(Path(folder), manifest.files(split), out, np.dtype(np.uint16))
    return out


def llmc_name(split: str, k: int) -> str:
    return f"grist_{split}_{k:06d}.bin"


def export_llmc_shard(folder: Path, info: ShardInfo, k: int, eot: int) -> Path:
    """One shard as one llm.c data file (see the module docstring)."""
    flat, _ = shard_flat(folder, info)
    if not len(flat) or int(flat[-1]) != eot:
        raise ValueError(f"{info.file}: does not end with the end-of-text token {eot}")
    if len(flat) >= 2**31:  # write_datafile's bound: the count is an int32 of the header
        raise ValueError(f"{info.file}: {len(flat):,} tokens, over llm.c's int32 token count")
    header = np.zeros(LLMC_HEADER_INTS, np.int32)
    header[0], header[1] = LLMC_MAGIC[flat.dtype]
    header[2] = len(flat)
    out = Path(folder) / EXPORT_DIR / llmc_name(info.split, k)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(out)
    with open(tmp, "wb") as f:
        f.write(header.tobytes())
        f.write(np.array([eot], flat.dtype).tobytes())
        f.write(memoryview(np.ascontiguousarray(flat[:-1])).cast("B"))
    os.replace(tmp, out)
    return out


def export_llmc(folder: Path, manifest: Manifest, split: str) -> list[Path]:
    return [export_llmc_shard(folder, info, k, manifest.eot_id) for k, info in enumerate(manifest.files(split))]


def export_megatron(folder: Path, manifest: Manifest, split: str) -> tuple[Path, Path]:
    prefix = Path(folder) / EXPORT_DIR / f"{split}_text_document"
    bin_path, idx_path = prefix.with_suffix(".bin"), prefix.with_suffix(".idx")
    dtype = np.dtype(np.uint16) if manifest.dtype == "uint16" else np.dtype(np.int32)
    lengths = _concat_split(Path(folder), manifest.files(split), bin_path, dtype)
    sizes = np.concatenate(lengths).astype(np.int32) if lengths else np.zeros(0, np.int32)
    pointers = np.zeros(len(sizes), np.int64)
    if len(sizes):
        np.cumsum(sizes[:-1].astype(np.int64) * dtype.itemsize, out=pointers[1:])
    doc_idx = np.arange(len(sizes) + 1, dtype=np.int64)
    tmp_idx = _tmp(idx_path)
    with open(tmp_idx, "wb") as f:
        f.write(MMIDIDX_MAGIC)
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<B", MEGATRON_DTYPE_CODES[dtype]))
        f.write(struct.pack("<Q", len(sizes)))
        f.write(struct.pack("<Q", len(doc_idx)))
        f.write(sizes.tobytes(order="C"))
        f.write(pointers.tobytes(order="C"))
        f.write(doc_idx.tobytes(order="C"))
    os.replace(tmp_idx, idx_path)
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


def write_exports(folder: Path, manifest: Manifest, kinds: list[str]) -> dict:
    """Write the requested exports for every split present. Returns {kind: [relative paths]}, plus
    `refused: {kind: reason}` for exports these shards cannot have (each also logged as a warning)."""
    if not kinds:
        return {}
    folder = Path(folder)
    out: dict = {}
    splits = sorted({s.split for s in manifest.shards})
    for kind in kinds:
        reason = refusal(kind, manifest)
        if reason:
            log(f"[yellow]warning: {reason}")
            out.setdefault("refused", {})[kind] = reason
            continue
        paths: list[Path] = []
        for split in splits:
            if kind == "nanogpt":
                paths.append(export_nanogpt(folder, manifest, split))
            elif kind == "llmc":
                paths.extend(export_llmc(folder, manifest, split))
            elif kind == "megatron":
                paths.extend(export_megatron(folder, manifest, split))
        if kind == "nanogpt":
            paths.append(export_nanogpt_meta(folder, manifest))
        out[kind] = [str(p.relative_to(folder)) for p in paths]
    return out

"""Exports of the shards for other trainers, under `shards/export/`.

Every export is written shard by shard, by the task that writes the shard, from the tokens it has
in memory (`write_shard_exports`): an llm.c file is the shard's own file; the files of a whole split
(nanoGPT's `.bin`, Megatron's `.bin` and `.idx`) get one piece per shard (its tokens, or its
documents' lengths, byte pointers and indices, which need only the shard's first token and first
document in its split, known before it is written). `assemble` then streams a file's header, its
pieces in shard order and its tail into the final file through the storage layer, so the same code
writes a local folder or an object store (no pre-sized file, no writes at offsets); the driver only
lists the pieces (`split_files`) and writes `meta.pkl`.

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

import pickle
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines import storage
from pipelines.progress import log
from shards.format import Manifest, ShardInfo, flat_tokens, open_shard

EXPORT_DIR = "export"
KINDS = ("nanogpt", "llmc", "megatron")
MMIDIDX_MAGIC = b"MMIDIDX\x00\x00"
MEGATRON_DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}
LLMC_HEADER_INTS = 256
# data_common.py HEADERS_INFO: "gpt-2" (uint16) and "llama-3" (uint32) -> (magic, version)
LLMC_MAGIC = {np.dtype(np.uint16): (20240520, 1), np.dtype(np.uint32): (20240801, 7)}
COPY_CHUNK = 8 << 20


def shard_flat(folder: Path, info: ShardInfo) -> tuple[np.ndarray, np.ndarray]:
    """(flat tokens, offsets) of one shard, memory-mapped."""
    return flat_tokens(open_shard(storage.location(folder) / info.file))


def refusal(kind: str, manifest_dtype: str, vocab_size: int) -> str | None:
    """Why `kind` cannot be written for these shards (one line), or None."""
    if kind == "nanogpt" and manifest_dtype != "uint16":
        return (f"nanogpt export refused: {vocab_size:,} token ids need {manifest_dtype} and nanoGPT's "
                "train.py reads np.uint16 (use the llmc or megatron export)")
    return None


def megatron_dtype(manifest_dtype: str) -> np.dtype:
    """Megatron has no uint32 code: larger vocabularies are written as int32 (ids < 2^31)."""
    return np.dtype(np.uint16) if manifest_dtype == "uint16" else np.dtype(np.int32)


@dataclass
class Exports:
    """The exports a run writes: the accepted kinds (in config order) and the refused ones."""

    kinds: list[str]
    dtype: str  # the shards' token dtype
    vocab_size: int
    eot_id: int
    refused: dict[str, str]

    @classmethod
    def plan(cls, kinds: list[str], dtype: str, vocab_size: int, eot_id: int) -> "Exports":
        refused = {k: r for k in kinds if (r := refusal(k, dtype, vocab_size))}
        return cls([k for k in kinds if k not in refused], dtype, vocab_size, eot_id, refused)

    def piece_dtypes(self) -> list[np.dtype]:
        """Token dtypes of the split files' pieces (nanoGPT and a uint16 Megatron share one)."""
        out = []
        if "nanogpt" in self.kinds:
            out.append(np.dtype(np.uint16))
        if "megatron" in self.kinds and megatron_dtype(self.dtype) not in out:
            out.append(megatron_dtype(self.dtype))
        return out


def llmc_name(split: str, k: int) -> str:
    return f"grist_{split}_{k:06d}.bin"


def piece_name(split: str, k: int, what: str) -> str:
    return f"{split}-{k:05d}.{what}"


def llmc_bytes(flat: np.ndarray, eot: int, name: str) -> list[bytes | memoryview]:
    """One shard as llm.c's data file (see the module docstring)."""
    if not len(flat) or int(flat[-1]) != eot:
        raise ValueError(f"{name}: does not end with the end-of-text token {eot}")
    if len(flat) >= 2**31:  # write_datafile's bound: the count is an int32 of the header
        raise ValueError(f"{name}: {len(flat):,} tokens, over llm.c's int32 token count")
    header = np.zeros(LLMC_HEADER_INTS, np.int32)
    header[0], header[1] = LLMC_MAGIC[flat.dtype]
    header[2] = len(flat)
    return [header.tobytes(), np.array([eot], flat.dtype).tobytes(), memoryview(np.ascontiguousarray(flat[:-1])).cast("B")]


def write_shard_exports(ex: Exports, folder: Path, pieces: Path, info: ShardInfo, k: int, flat: np.ndarray,
                        lengths: np.ndarray, first_token: int, first_doc: int) -> None:
    """Shard `k` of its split (its tokens `flat`, documents' `lengths`, first token and first
    document in the split): its llm.c file under `folder/export/`, its pieces of the split files
    under `pieces/`."""
    folder, pieces = storage.location(folder), storage.location(pieces)
    if "llmc" in ex.kinds:
        with storage.open_commit(folder / EXPORT_DIR / llmc_name(info.split, k)) as f:
            for b in llmc_bytes(flat, ex.eot_id, info.file):
                f.write(b)
    for dt in ex.piece_dtypes():
        with storage.open_commit(pieces / piece_name(info.split, k, f"tok-{dt.name}"), durable=False) as f:
            f.write(memoryview(np.ascontiguousarray(flat.astype(dt, copy=False))).cast("B"))
    if "megatron" in ex.kinds:
        size = megatron_dtype(ex.dtype).itemsize
        lengths = lengths.astype(np.int64)
        starts = first_token + np.cumsum(lengths) - lengths
        for what, arr in (("sizes", lengths.astype(np.int32)), ("pointers", starts * size),
                          ("docidx", np.arange(first_doc, first_doc + len(lengths), dtype=np.int64))):
            storage.commit_bytes(pieces / piece_name(info.split, k, what), arr.tobytes(order="C"), durable=False)


@dataclass
class SplitFile:
    """One export file made of a split's pieces: `head`, the pieces in shard order, `tail`."""

    path: str  # relative to the shard folder
    head: bytes
    pieces: list[str]  # piece names, under the pieces folder
    tail: bytes = b""


def split_files(ex: Exports, splits: dict[str, tuple[int, int]]) -> list[SplitFile]:
    """The split-wide files, from {split: (shards, documents)} only."""
    out = []
    for kind in ex.kinds:
        for split, (n_shards, n_docs) in sorted(splits.items()):
            ks = range(n_shards)
            if kind == "nanogpt":
                out.append(SplitFile(f"{EXPORT_DIR}/{split}.bin", b"", [piece_name(split, k, "tok-uint16") for k in ks]))
            elif kind == "megatron":
                dt = megatron_dtype(ex.dtype)
                prefix = f"{EXPORT_DIR}/{split}_text_document"
                out.append(SplitFile(f"{prefix}.bin", b"", [piece_name(split, k, f"tok-{dt.name}") for k in ks]))
                head = (MMIDIDX_MAGIC + struct.pack("<Q", 1) + struct.pack("<B", MEGATRON_DTYPE_CODES[dt])
                        + struct.pack("<Q", n_docs) + struct.pack("<Q", n_docs + 1))
                out.append(SplitFile(f"{prefix}.idx", head, [piece_name(split, k, what) for what in ("sizes", "pointers", "docidx")
                                                             for k in ks], np.array([n_docs], np.int64).tobytes()))
    return out


def assemble(folder: Path, pieces: Path, sf: SplitFile) -> None:
    """Stream `sf`'s head, pieces and tail into `folder/sf.path`, committed whole (memory: one chunk)."""
    pieces = storage.location(pieces)
    with storage.open_commit(storage.location(folder) / sf.path) as out:
        out.write(sf.head)
        for name in sf.pieces:
            with storage.open_read(pieces / name) as f:
                shutil.copyfileobj(f, out, COPY_CHUNK)
        out.write(sf.tail)


def exported_paths(ex: Exports, splits: dict[str, int]) -> dict:
    """The manifest's `exports`: {kind: [relative paths]} in config order, `refused: {kind: reason}`."""
    out: dict = {}
    for kind in [*ex.kinds, *ex.refused]:
        if kind in ex.refused:
            out.setdefault("refused", {})[kind] = ex.refused[kind]
            continue
        paths: list[str] = []
        for split, n_shards in sorted(splits.items()):
            if kind == "nanogpt":
                paths.append(f"{EXPORT_DIR}/{split}.bin")
            elif kind == "llmc":
                paths.extend(f"{EXPORT_DIR}/{llmc_name(split, k)}" for k in range(n_shards))
            elif kind == "megatron":
                paths.extend([f"{EXPORT_DIR}/{split}_text_document.bin", f"{EXPORT_DIR}/{split}_text_document.idx"])
        if kind == "nanogpt":
            paths.append(f"{EXPORT_DIR}/meta.pkl")
        out[kind] = paths
    return out


def nanogpt_meta(folder: Path, manifest: Manifest) -> dict:
    """What nanoGPT reads from meta.pkl: train.py `vocab_size`, sample.py `stoi`/`itos`."""
    meta = {"vocab_size": manifest.vocab_size, "eot_id": manifest.eot_id, "dtype": manifest.dtype,
            "tokenizer": manifest.tokenizer_path}
    tok_file = storage.location(folder) / manifest.tokenizer_path
    if storage.exists(tok_file):
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


def finish_exports(ex: Exports, folder: Path, manifest: Manifest) -> dict:
    """After the pieces are assembled: `meta.pkl` (nanoGPT), the warnings of refused kinds, and the
    manifest's `exports` record."""
    if "nanogpt" in ex.kinds:
        storage.commit_bytes(storage.location(folder) / EXPORT_DIR / "meta.pkl", pickle.dumps(nanogpt_meta(folder, manifest)))
    for reason in ex.refused.values():
        log(f"[yellow]warning: {reason}")
    return exported_paths(ex, {s: len(manifest.files(s)) for s in sorted({i.split for i in manifest.shards})})


def read_megatron_index(idx_path: Path) -> dict:
    """Parse an MMIDIDX `.idx` (for tests and `grist stats`)."""
    buf = storage.location(idx_path).read_bytes()
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
    """Export an existing shard folder (every split present): each shard's pieces, then the split
    files, as the shards stage does on its workers. Returns {kind: [relative paths]}, plus
    `refused: {kind: reason}` for exports these shards cannot have (each also logged as a warning)."""
    if not kinds:
        return {}
    ex = Exports.plan(kinds, manifest.dtype, manifest.vocab_size, manifest.eot_id)
    pieces = storage.location(folder) / EXPORT_DIR / ".pieces"
    splits: dict[str, tuple[int, int]] = {}
    for split in sorted({s.split for s in manifest.shards}):
        first_token = first_doc = 0
        for k, info in enumerate(manifest.files(split)):
            flat, offsets = shard_flat(folder, info)
            write_shard_exports(ex, folder, pieces, info, k, flat, np.diff(offsets), first_token, first_doc)
            first_token += len(flat)
            first_doc += len(offsets) - 1
        splits[split] = (len(manifest.files(split)), first_doc)
    for sf in split_files(ex, splits):
        assemble(folder, pieces, sf)
    storage.remove_tree(pieces)
    return finish_exports(ex, folder, manifest)

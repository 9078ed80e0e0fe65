"""Exports read back with each trainer's own reader logic, re-implemented here as upstream writes it:
nanoGPT train.py (np.memmap uint16, meta.pkl vocab_size, get_batch) and sample.py (stoi/itos),
llm.c train_gpt2.py / train_llama3.py `_load_data_shard` and its C loader's file-size check,
modded-nanogpt's `_load_data_shard` and BOS positions, Megatron-LM's `_IndexReader` + mmap reader.
The shard folders are real: shards.format files from generated prose, Chinese and code through a
trained byte-level BPE (uint16), and from a 70,000-id vocabulary (uint32)."""

from __future__ import annotations

import glob
import os
import pickle
import random
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from shards.config import ShardsConfig
from shards.export import Exports, assemble, shard_flat, split_files, write_exports, write_shard_exports
from shards.format import (Manifest, ShardInfo, open_shard, sha256_file, shard_schema, token_dtype, tokens_array,
                           write_shard)
from tests.shards.corpus import GENERATORS
from tokenizer.config import TokenizerConfig
from tokenizer.encode import encode_texts
from tokenizer.train import eot_id, tokenizer_json, train_bpe

# train: 2 shards, val: 1 shard; (source, documents) per shard
LAYOUT = {"train": [30, 25], "val": [12]}


def _write_folder(folder: Path, docs: dict[str, list[list[tuple[str, np.ndarray]]]], vocab: int, eot: int) -> Manifest:
    """Shards of (source, tokens ending with eot) documents, and their manifest."""
    infos = []
    for split, shards in docs.items():
        for k, shard in enumerate(shards):
            flat = np.concatenate([t for _, t in shard]).astype(token_dtype(vocab))
            offsets = np.concatenate([[0], np.cumsum([len(t) for _, t in shard])])
            path = folder / f"{'shard' if split == 'train' else 'val'}-{k:05d}.arrow"
            write_shard(path, [f"{split}-{k}-{i}" for i in range(len(shard))], [s for s, _ in shard],
                        tokens_array(flat, offsets, vocab), shard_schema(vocab, {"split": split}))
            infos.append(ShardInfo(file=path.name, split=split, sha256=sha256_file(path), tokens=len(flat),
                                   documents=len(shard), bytes=path.stat().st_size))
    m = Manifest(dtype=token_dtype(vocab).name, vocab_size=vocab, eot_id=eot, tokenizer_sha256="",
                 tokenizer_path="tokenizer.json", config_hash="test", seed=0, shards=infos)
    m.save(folder)
    return m


@pytest.fixture(scope="module")
def u16(tmp_path_factory):
    """Generated web/zh/code documents through a trained 400-id BPE: uint16 shards + tokenizer.json."""
    folder = tmp_path_factory.mktemp("u16")
    rng = random.Random(0)
    texts = [(src, gen(rng)) for _ in range(40) for src, gen in GENERATORS.items()]
    tok = train_bpe([t for _, t in texts], TokenizerConfig(vocab_size=400))
    (folder / "tokenizer.json").write_text(tokenizer_json(tok))
    eot = eot_id(tok)
    vocab = tok.get_vocab_size(with_added_tokens=True)
    flat, offsets = encode_texts(tok, [t for _, t in texts], eot, token_dtype(vocab))
    docs = [(src, flat[offsets[i]: offsets[i + 1]]) for i, (src, _) in enumerate(texts)]
    split_docs, pos = {}, 0
    for split, sizes in LAYOUT.items():
        split_docs[split] = []
        for n in sizes:
            split_docs[split].append(docs[pos: pos + n])
            pos += n
    return folder, _write_folder(folder, split_docs, vocab, eot), tok


@pytest.fixture(scope="module")
def u32(tmp_path_factory):
    """A 70,000-id vocabulary (uint32 shards); ids above 65,535 in every document."""
    folder = tmp_path_factory.mktemp("u32")
    rng = np.random.default_rng(0)
    vocab, eot = 70_000, 3
    split_docs = {split: [[("web", np.append(rng.integers(65_000, vocab, rng.integers(5, 60)), eot)) for _ in range(n)]
                          for n in sizes] for split, sizes in LAYOUT.items()}
    return folder, _write_folder(folder, split_docs, vocab, eot)


def _split_tokens(folder: Path, m: Manifest, split: str) -> tuple[np.ndarray, np.ndarray]:
    parts = [shard_flat(folder, s) for s in m.files(split)]
    lengths = np.concatenate([np.diff(o) for _, o in parts])
    return np.concatenate([f for f, _ in parts]), lengths


# --- nanoGPT ---------------------------------------------------------------------------------

def test_nanogpt_train_and_sample_read_the_export(u16):
    folder, m, tok = u16
    assert write_exports(folder, m, ["nanogpt"]) == {"nanogpt": ["export/train.bin", "export/val.bin", "export/meta.pkl"]}
    data_dir = str(folder / "export")
    # nanoGPT train.py: vocab size from meta.pkl, tokens by np.memmap(uint16), get_batch
    meta_path = os.path.join(data_dir, 'meta.pkl')
    with open(meta_path, 'rb') as f:
        meta = pickle.load(f)
    meta_vocab_size = meta['vocab_size']
    assert meta_vocab_size == m.vocab_size == tok.get_vocab_size(with_added_tokens=True)
    for split in ("train", "val"):
        data = np.memmap(os.path.join(data_dir, f'{split}.bin'), dtype=np.uint16, mode='r')
        tokens, lengths = _split_tokens(folder, m, split)
        assert np.array_equal(data, tokens)
        assert (data[np.cumsum(lengths) - 1] == m.eot_id).all()  # each document followed by <|endoftext|>
    data = np.memmap(os.path.join(data_dir, 'train.bin'), dtype=np.uint16, mode='r')
    block_size, batch_size = 64, 8
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([torch.from_numpy((data[i:i+block_size]).astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy((data[i+1:i+1+block_size]).astype(np.int64)) for i in ix])
    assert int(x.max()) < meta_vocab_size and torch.equal(x[:, 1:], y[:, :-1])
    # nanoGPT sample.py: reads stoi and itos whenever meta.pkl exists
    stoi, itos = meta['stoi'], meta['itos']
    encode = lambda s: [stoi[c] for c in s]  # noqa: E731 (as sample.py writes it)
    decode = lambda l: ''.join([itos[i] for i in l])  # noqa: E731, E741
    prompt = "\nThe quick brown fox, 42 times: {ok}!"
    assert decode(encode(prompt)) == prompt
    flat, offsets = shard_flat(folder, m.files("train")[0])
    sources = open_shard(folder / m.files("train")[0].file).column("source").to_pylist()
    web = [flat[offsets[i]: offsets[i + 1]].tolist() for i, s in enumerate(sources) if s == "web"]
    assert len(web) >= 5 and all(decode(ids) == tok.decode(ids, skip_special_tokens=False) for ids in web)


def test_pieces_in_any_order_give_the_same_files(u16, tmp_path):
    """Each shard's pieces are written by the task that writes the shard, knowing only its first
    token and document in the split: written in reverse order (as parallel workers might), the
    assembled split files are byte-identical to a folder's export."""
    folder, m, _ = u16
    kinds = ["nanogpt", "megatron"]
    write_exports(folder, m, kinds)
    ex = Exports.plan(kinds, m.dtype, m.vocab_size, m.eot_id)
    infos = m.files("train")
    firsts = np.cumsum([0] + [s.tokens for s in infos]), np.cumsum([0] + [s.documents for s in infos])
    for k in reversed(range(len(infos))):
        flat, offsets = shard_flat(folder, infos[k])
        write_shard_exports(ex, tmp_path, tmp_path / "pieces", infos[k], k, flat, np.diff(offsets),
                            int(firsts[0][k]), int(firsts[1][k]))
    files = split_files(ex, {"train": (len(infos), int(firsts[1][-1]))})
    assert [f.path for f in files] == ["export/train.bin", "export/train_text_document.bin", "export/train_text_document.idx"]
    for sf in files:
        assemble(tmp_path, tmp_path / "pieces", sf)
        assert (tmp_path / sf.path).read_bytes() == (folder / sf.path).read_bytes(), sf.path
    assert len(infos) == 2


def test_exports_on_an_object_store_are_byte_identical(u16, tmp_path):
    """The same export written into s3:// (an S3 server on 127.0.0.1) and into a local folder."""
    from pipelines import storage
    from tests.s3server import s3_server

    folder, m, _ = u16
    kinds = ["nanogpt", "llmc", "megatron"]
    local = tmp_path / "local"
    shutil.copytree(folder, local, ignore=shutil.ignore_patterns("export"))
    with s3_server() as _:
        remote = storage.location("s3://grist-test/u16")
        for p in sorted(local.iterdir()):
            storage.commit_bytes(remote / p.name, p.read_bytes())
        assert write_exports(remote, m, kinds) == write_exports(local, m, kinds)
        got = {k: (remote / k).read_bytes() for k in storage.tree_sizes(remote) if k.startswith("export/")}
    want = {str(p.relative_to(local)): p.read_bytes() for p in sorted((local / "export").rglob("*")) if p.is_file()}
    assert len(want) == 10 and got == want  # train/val .bin, meta.pkl, 3 llm.c files, 2 x megatron .bin/.idx


def test_nanogpt_refuses_uint32_in_one_line(u32):
    folder, m = u32
    res = write_exports(folder, m, ["nanogpt", "llmc", "megatron"])
    reason = res["refused"]["nanogpt"]
    assert "\n" not in reason and "70,000" in reason and "np.uint16" in reason
    assert "nanogpt" not in res and not (folder / "export" / "train.bin").exists()
    assert not (folder / "export" / "meta.pkl").exists()
    assert res["llmc"] and res["megatron"]  # the other exports are still written


# --- llm.c / modded-nanogpt --------------------------------------------------------------------

def _llmc_load_data_shard(filename, magic, version, dtype):
    """llm.c train_gpt2.py (magic 20240520, version 1, uint16) / train_llama3.py (20240801, 7, uint32)."""
    with open(filename, "rb") as f:
        # first read the header, which is 256 int32 integers (4 bytes each)
        header = np.frombuffer(f.read(256*4), dtype=np.int32)
        assert header[0] == magic, "magic number mismatch in the data .bin file"
        assert header[1] == version, "unsupported version"
        ntok = header[2]  # number of tokens (claimed)
        tokens = np.frombuffer(f.read(), dtype=dtype)
    assert len(tokens) == ntok, "number of tokens read does not match header?"
    return tokens


def _llmc_c_loader_accepts(filename) -> bool:
    """llm.c llmc/dataloader.h: ntok > 0 and file size == HEADER_SIZE * sizeof(int) + ntok * sizeof(uint16_t)."""
    header = np.fromfile(filename, dtype=np.int32, count=256)
    ntok = int(header[2])
    return header[0] == 20240520 and header[1] == 1 and ntok > 0 and os.path.getsize(filename) == 256 * 4 + ntok * 2


def _modded_load_data_shard(file: Path):
    """modded-nanogpt train_gpt.py; upstream pins unconditionally, which needs CUDA."""
    header = torch.from_file(str(file), False, 256, dtype=torch.int32)  # header is 256 int32
    assert header[0] == 20240520, "magic number mismatch in the data .bin file"
    assert header[1] == 1, "unsupported version"
    num_tokens = int(header[2])  # number of tokens (claimed)
    with file.open("rb", buffering=0) as f:
        tokens = torch.empty(num_tokens, dtype=torch.uint16, pin_memory=torch.cuda.is_available())
        f.seek(256 * 4)
        nbytes = f.readinto(tokens.numpy())  # avoid bytes->array copy
        assert nbytes == 2 * num_tokens, "number of tokens read does not match header"
    return tokens


def test_llmc_and_modded_nanogpt_read_one_file_per_shard(u16):
    folder, m, _ = u16
    res = write_exports(folder, m, ["llmc"])
    assert res["llmc"] == ["export/grist_train_000000.bin", "export/grist_train_000001.bin", "export/grist_val_000000.bin"]
    for split in ("train", "val"):
        files = sorted(glob.glob(str(folder / "export" / f"grist_{split}_*.bin")))  # how both trainers list them
        assert len(files) == len(m.files(split))
        for path, info in zip(files, m.files(split)):
            flat, offsets = shard_flat(folder, info)
            tokens = _llmc_load_data_shard(path, 20240520, 1, np.uint16)
            assert _llmc_c_loader_accepts(path)
            # documents preceded by <|endoftext|>, as llm.c's fineweb.py writes them
            assert np.array_equal(tokens, np.concatenate([[m.eot_id], flat[:-1]]))
            modded = _modded_load_data_shard(Path(path))
            assert np.array_equal(modded.numpy(), tokens)
            bos_idx = (modded.to(torch.int32) == m.eot_id).nonzero(as_tuple=True)[0].numpy()
            assert np.array_equal(bos_idx, offsets[:-1])  # modded-nanogpt's windows start at documents


def test_llmc_uint32_uses_the_llama3_header(u32):
    folder, m = u32
    res = write_exports(folder, m, ["llmc"])
    for rel, info in zip(res["llmc"], m.shards):
        tokens = _llmc_load_data_shard(folder / rel, 20240801, 7, np.uint32)
        flat, _ = shard_flat(folder, info)
        assert tokens.max() > 65_535 and np.array_equal(tokens, np.concatenate([[m.eot_id], flat[:-1]]))
        with pytest.raises(AssertionError, match="magic number"):  # the gpt-2 readers refuse it
            _modded_load_data_shard(folder / rel)


# --- Megatron-LM -------------------------------------------------------------------------------

MEGATRON_DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}


def _megatron_read(path_prefix: str):
    """megatron/core/datasets/indexed_dataset.py: _IndexReader, then _MMapBinReader.read per sequence."""
    idx_path = path_prefix + ".idx"
    with open(idx_path, "rb") as stream:
        header = stream.read(9)
        assert header == b"MMIDIDX\x00\x00", f"bad header, cannot read: {idx_path}"
        version = struct.unpack("<Q", stream.read(8))[0]
        assert version == 1, f"bad version, cannot read: {idx_path}"
        code = struct.unpack("<B", stream.read(1))[0]
        dtype = MEGATRON_DTYPES[code]
        sequence_count = struct.unpack("<Q", stream.read(8))[0]
        document_count = struct.unpack("<Q", stream.read(8))[0]
        offset = stream.tell()
    bin_buffer = memoryview(np.memmap(idx_path, mode="r", order="C"))
    sequence_lengths = np.frombuffer(bin_buffer, dtype=np.int32, count=sequence_count, offset=offset)
    sequence_pointers = np.frombuffer(bin_buffer, dtype=np.int64, count=sequence_count,
                                      offset=offset + sequence_lengths.nbytes)
    document_indices = np.frombuffer(bin_buffer, dtype=np.int64, count=document_count,
                                     offset=offset + sequence_lengths.nbytes + sequence_pointers.nbytes)
    data = memoryview(np.memmap(path_prefix + ".bin", mode="r", order="C").data)
    sequences = [np.frombuffer(data, dtype=dtype, count=int(n), offset=int(p))
                 for p, n in zip(sequence_pointers, sequence_lengths)]
    return dtype, document_indices, sequences


@pytest.mark.parametrize("which", ["u16", "u32"])
def test_megatron_reader_gets_every_document(which, request):
    folder, m = request.getfixturevalue(which)[:2]
    write_exports(folder, m, ["megatron"])
    for split in ("train", "val"):
        dtype, doc_idx, sequences = _megatron_read(str(folder / "export" / f"{split}_text_document"))
        tokens, lengths = _split_tokens(folder, m, split)
        assert dtype == (np.uint16 if which == "u16" else np.int32)
        assert np.array_equal(doc_idx, np.arange(len(lengths) + 1))
        assert [len(s) for s in sequences] == lengths.tolist()
        assert np.array_equal(np.concatenate(sequences).astype(np.int64), tokens.astype(np.int64))


def test_config_names_the_exports():
    assert ShardsConfig(exports=["nanogpt", "llmc", "megatron"]).exports == ["nanogpt", "llmc", "megatron"]
    with pytest.raises(ValueError, match="llmc"):
        ShardsConfig(exports=["tfrecord"])

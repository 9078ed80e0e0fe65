"""Real shards for trainer tests: a byte-level BPE trained in-process on generated text, and shard
files + manifest written with `shards.format` (the layout `grist run` produces:
OUT/tokenizer/tokenizer.json and OUT/shards/)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from shards.format import Manifest, ShardInfo, sha256_file, shard_schema, tokens_array, write_shard

EOT = "<|endoftext|>"

# Each source has its own small grammar, so the per-source validation losses differ.
_WORDS = {
    "web": (["the cat", "a dog", "my friend", "the server", "our team"],
            ["runs", "sleeps", "writes code", "reads the news", "eats lunch"],
            ["today.", "at night.", "in the park.", "on the web.", "every day."]),
    "books": (["Once upon a time", "Long ago", "In the old castle", "Beyond the sea"],
              ["a king", "the queen", "a young knight", "an old wizard"],
              ["lived happily.", "found a sword.", "lost his way.", "sang a song."]),
    "code": (["def f(x):", "for i in range(10):", "if x > 0:", "while True:"],
             ["return x + 1", "print(i)", "x = x * 2", "break"],
             ["# done", "# loop", "# check", "# end"]),
}


def generate_texts(source: str, n: int, seed: int = 0) -> list[str]:
    rng = random.Random(f"{seed}-{source}")
    parts = _WORDS[source]
    docs = []
    for _ in range(n):
        sentences = [" ".join(rng.choice(p) for p in parts) for _ in range(rng.randint(2, 12))]
        docs.append(" ".join(sentences))
    return docs


def train_tokenizer(path: Path, texts: list[str], vocab_size: int = 384):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(path))
    return tok


def write_dataset(out: Path, docs_per_source: int = 300, sources=("web", "books", "code"), docs_per_shard: int = 200,
                  val_fraction: float = 0.1, seed: int = 0, vocab_size: int = 384) -> Path:
    """Tokenizer + train/val shards under `out`; documents of all sources interleaved. Returns the shard folder."""
    texts = {s: generate_texts(s, docs_per_source, seed) for s in sources}
    tok_path = out / "tokenizer" / "tokenizer.json"
    tok = train_tokenizer(tok_path, [t for s in sources for t in texts[s]], vocab_size)
    eot = tok.token_to_id(EOT)
    vocab = tok.get_vocab_size()
    tok_sha = sha256_file(tok_path)
    docs = [(f"{s}-{i}", s, t) for i in range(docs_per_source) for s in sources for t in [texts[s][i]]]
    rng = random.Random(seed)
    rng.shuffle(docs)
    n_val = max(len(sources), int(len(docs) * val_fraction))
    splits = {"val": docs[:n_val], "train": docs[n_val:]}
    folder = out / "shards"
    infos = []
    for split, rows in splits.items():
        for k in range(0, len(rows), docs_per_shard):
            chunk = rows[k: k + docs_per_shard]
            ids = [tok.encode(t).ids + [eot] for _, _, t in chunk]
            offsets = np.concatenate([[0], np.cumsum([len(x) for x in ids])])
            flat = np.concatenate([np.array(x) for x in ids])
            name = f"shard-{split}-{k // docs_per_shard:05d}.arrow"
            meta = {"vocab_size": vocab, "eot_id": eot, "tokenizer_sha256": tok_sha, "split": split}
            write_shard(folder / name, [r[0] for r in chunk], [r[1] for r in chunk],
                        tokens_array(flat, offsets, vocab), shard_schema(vocab, meta))
            by_src_tok: dict[str, int] = {}
            by_src_doc: dict[str, int] = {}
            for (_, s, _), x in zip(chunk, ids):
                by_src_tok[s] = by_src_tok.get(s, 0) + len(x)
                by_src_doc[s] = by_src_doc.get(s, 0) + 1
            infos.append(ShardInfo(name, split, sha256_file(folder / name), int(offsets[-1]), len(chunk),
                                   (folder / name).stat().st_size, by_src_tok, by_src_doc))
    Manifest(dtype="uint16", vocab_size=vocab, eot_id=eot, tokenizer_sha256=tok_sha,
             tokenizer_path="../tokenizer/tokenizer.json", config_hash="test", seed=seed, shards=infos).save(folder)
    return folder

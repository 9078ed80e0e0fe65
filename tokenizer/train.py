"""Byte-level BPE with HF tokenizers: no unknown token, any UTF-8 text round-trips byte-exactly.

User text never produces a special token: every tokenizer grist builds or loads encodes special
token strings (a literal `<|endoftext|>` in a web page or code file) as ordinary text, and the
end-of-text id is appended by grist between documents (`tokenizer.encode.encode_texts`).

The artifact is one `tokenizer.json`. Training is deterministic for a given iterator order: two
trainings over the same texts give byte-identical JSON (checked in tests/tokenizer).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable, Iterator

from tokenizer.config import EOT, TokenizerConfig


def build_trainer_and_tokenizer(cfg: TokenizerConfig):
    """An untrained byte-level BPE tokenizer and its trainer, as the config says."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=cfg.use_regex)
    if cfg.split_digits:
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
    else:
        tok.pre_tokenizer = byte_level
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=cfg.vocab_size,
        min_frequency=cfg.min_frequency,
        special_tokens=list(cfg.special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes: nothing is ever unknown
        show_progress=False,
    )
    return tok, trainer


def train_bpe(texts: Iterable[str], cfg: TokenizerConfig):
    """Train on `texts` (consumed once, in order) and return the tokenizer."""
    tok, trainer = build_trainer_and_tokenizer(cfg)
    tok.train_from_iterator(_batched(texts), trainer=trainer)
    return specials_as_text(tok)


def specials_as_text(tok):
    """`tok`, set to encode special token strings as text. The flag is not saved in tokenizer.json
    (tokenizers 0.23.3), so it is set on every load; it costs nothing measurable
    (benchmarks/bench_tokenize.py)."""
    tok.encode_special_tokens = True
    return tok


def _batched(texts: Iterable[str], n: int = 1000) -> Iterator[list[str]]:
    batch: list[str] = []
    for t in texts:
        batch.append(t)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def load_tokenizer(path: str | Path):
    """A tokenizer.json from a local path or an object store URL, specials encoded as text."""
    from tokenizers import Tokenizer

    from pipelines import storage

    if storage.is_remote(path):
        return specials_as_text(Tokenizer.from_str(storage.location(path).read_text(encoding="utf-8")))
    return specials_as_text(Tokenizer.from_file(str(path)))


def eot_id(tok) -> int:
    i = tok.token_to_id(EOT)
    if i is None:
        from pipelines.errors import ConfigError

        raise ConfigError(f"tokenizer: has no {EOT} token")
    return i


def tokenizer_json(tok) -> str:
    """Canonical JSON text of a tokenizer (what is saved and hashed)."""
    return tok.to_str(pretty=True)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def describe(tok) -> dict:
    """Facts for reports and manifests."""
    data = json.loads(tok.to_str())
    return {
        "vocab_size": tok.get_vocab_size(with_added_tokens=True),
        "eot_id": eot_id(tok),
        "special_tokens": [t["content"] for t in data.get("added_tokens", []) if t.get("special")],
        "model": data["model"]["type"],
        "pre_tokenizer": (data.get("pre_tokenizer") or {}).get("type"),
    }

"""Byte-level BPE: byte-exact round trips, determinism, the training sample, a given tokenizer."""

import hashlib
import json
import random

import numpy as np
import pytest

from pipelines.errors import ConfigError
from shards.format import Manifest
from tests.conftest import make_config, run_config
from tests.shards.corpus import chinese, code, english, full_run
from tokenizer.config import EOT, TokenizerConfig
from tokenizer.encode import encode_texts
from tokenizer.train import describe, eot_id, load_tokenizer, tokenizer_json, train_bpe

MIXED = [
    "Hello, world! The quick brown fox — “quotes” and naïve café.",
    "数据管道把文本变成训练用的词元。中文、日本語のテキスト、한국어도 됩니다！",
    "emoji 😀👍🏽👨‍👩‍👧‍👦 flags 🇫🇷 and symbols ∑∫√ ✓",
    "def f(x):\n\treturn {'a': [1, 2, 3]}  # tabs\tand  double  spaces\r\n",
    "  leading spaces, trailing spaces   \n\n\nblank lines, e\u0301 combining, \u200b zero width, \x00\x07 controls",
    f"an {EOT} in the middle of text",
]


@pytest.fixture(scope="module")
def corpus():
    rng = random.Random(0)
    return [g(rng) for _ in range(300) for g in (english, chinese, code)] + MIXED


@pytest.fixture(scope="module")
def tok(corpus):
    return train_bpe(corpus, TokenizerConfig(vocab_size=400))


def test_round_trip_is_byte_exact(tok):
    for text in MIXED + ["", "x", "\U0010ffff", "ﬁ ligature, ＡＢＣ full width"]:
        ids = tok.encode(text, add_special_tokens=False).ids
        assert tok.decode(ids, skip_special_tokens=False).encode() == text.encode()
        assert all(0 <= i < tok.get_vocab_size() for i in ids)


def test_special_token_and_vocab(tok):
    assert eot_id(tok) == 0 and tok.id_to_token(0) == EOT
    assert 0 not in tok.encode(EOT).ids  # the string is text; grist appends the id itself
    assert 257 <= tok.get_vocab_size() <= 400


SPECIALS = [EOT, "<pad>", "<|im_start|>", "<|im_end|>"]


def _special_docs(specials: list[str]) -> list[str]:
    """Documents holding every special token string: alone, inside words, adjacent, repeated."""
    joined = "".join(specials)
    return [*specials, joined, f"A {joined} B", "x" + "y".join(specials) + "z",
            f"```\nprint('{specials[0]}')\n```", f"{specials[-1]}\n\n{specials[0]} tail", specials[0] * 3]


@pytest.mark.parametrize("reload", [False, True])
def test_user_text_never_produces_a_special_token(corpus, tmp_path, reload):
    tok = train_bpe(corpus, TokenizerConfig(vocab_size=400, special_tokens=SPECIALS))
    if reload:  # the setting is not in tokenizer.json: a loaded tokenizer gets it too
        tok.save(str(tmp_path / "t.json"))
        tok = load_tokenizer(tmp_path / "t.json")
    special_ids = {tok.token_to_id(s) for s in describe(tok)["special_tokens"]}
    assert describe(tok)["special_tokens"] == SPECIALS and len(special_ids) == len(SPECIALS)
    docs = _special_docs(SPECIALS)
    flat, offsets = encode_texts(tok, docs, eot_id(tok), np.dtype(np.uint16))
    for k, text in enumerate(docs):
        ids = flat[offsets[k]: offsets[k + 1]].tolist()
        assert ids[-1] == eot_id(tok) and not special_ids & set(ids[:-1])
        assert tok.decode(ids[:-1], skip_special_tokens=False) == text
    assert int((flat == eot_id(tok)).sum()) == len(docs)  # exactly one per document, at its end


def test_two_trainings_give_identical_json(corpus, tok):
    assert tokenizer_json(train_bpe(corpus, TokenizerConfig(vocab_size=400))) == tokenizer_json(tok)


def test_pre_tokenizer_options(corpus):
    t = train_bpe(corpus, TokenizerConfig(vocab_size=400, split_digits=True))
    ids = t.encode("year 20241", add_special_tokens=False).ids
    assert [t.id_to_token(i) for i in ids[-5:]] == list("20241")
    assert t.decode(ids) == "year 20241"


def test_config_requires_eot(tmp_path):
    with pytest.raises(ConfigError, match="tokenizer.special_tokens"):
        make_config(tmp_path, [{"name": "a", "kind": "jsonl", "paths": [str(tmp_path)]}],
                    tokenizer={"special_tokens": ["<pad>"]})


def test_trained_in_a_run_on_a_recorded_sample(ray_local, tmp_path_factory):
    cfg, report, out = full_run(tmp_path_factory, workers=1)
    tdir = out / "tokenizer"
    info = json.loads((tdir / "info.json").read_text())
    assert info["sha256"] == hashlib.sha256((tdir / "tokenizer.json").read_bytes()).hexdigest()
    assert info["vocab_size"] <= 512 and info["eot_id"] == 0
    lines = (tdir / "sample_ids.txt").read_text().splitlines()
    assert len(lines) == info["sample_documents"] > 0
    assert len(set(lines)) == len(lines)
    assert {ln.split("\t")[0] for ln in lines} == {"web", "zh", "code"}  # drawn from every source
    assert info["sample_chars"] <= cfg.tokenizer.sample_chars
    assert Manifest.load(out / "shards").tokenizer_sha256 == info["sha256"]


def test_a_given_tokenizer_json_is_used(ray_local, tmp_path, tmp_path_factory):
    _, _, trained = full_run(tmp_path_factory, workers=1)
    given = trained / "tokenizer" / "tokenizer.json"
    from tests.shards.corpus import make_sources

    srcs = make_sources(tmp_path / "data", {"web": 40, "zh": 20}, {"web": 1.0, "zh": 1.0}, files=1)
    cfg = make_config(tmp_path, srcs, tokenizer={"enabled": False, "path": str(given)},
                      shards={"tokens_per_shard": 10_000, "val_fraction": 0.0})
    run_config(cfg, workers=1)
    m = Manifest.load(tmp_path / "out" / "shards")
    assert m.tokenizer_sha256 == hashlib.sha256(given.read_bytes()).hexdigest()
    # no mixture stage: every kept document exactly once
    assert sum(s.documents for s in m.shards) == 60 and {s.split for s in m.shards} == {"train"}


def _reference_sample(docs: list[dict], sample_chars: int, seed: int, bytes_per_token: float) -> list[tuple[str, str]]:
    """The sample as a prefix of the whole (key, id) order per source (every document once)."""
    import math

    from pipelines.mixture import doc_key

    tokens = {}
    for d in docs:
        tokens[d["source"]] = tokens.get(d["source"], 0) + math.ceil(len(d["text"].encode()) / bytes_per_token) + 1
    total = sum(tokens.values())
    picked = []
    for s in sorted(tokens):
        rows = sorted((doc_key(seed, d["id"], "tokenizer"), d["id"], len(d["text"])) for d in docs if d["source"] == s)
        budget, cum, k = sample_chars * tokens[s] / total, 0, 0
        for _, _, n in rows:
            if cum + n > budget:
                break
            cum, k = cum + n, k + 1
        picked += [(s, i) for _, i, _ in rows[:max(1, k)]]
    return picked


@pytest.mark.parametrize("on_workers", [False, True])
def test_sample_is_the_prefix_of_the_whole_order(ray_local, tmp_path, monkeypatch, on_workers):
    """Workers take the sample by key threshold (only the sample reaches the driver); it is the
    same sample as a prefix of every document in (key, id) order."""
    import pyarrow.parquet as pq

    from pipelines.document import documents_table
    from pipelines.stage import StageContext
    from tests.shards.corpus import make_sources
    from tokenizer import stage as ts

    rng = random.Random(1)
    docs = [{"id": f"{s}-{i:04d}", "source": s, "text": g(rng)}
            for s, g, n in (("web", english, 300), ("zh", chinese, 120)) for i in range(n)]
    inputs = []
    for k in range(3):
        for s in ("web", "zh"):
            p = tmp_path / "parts" / f"{s}-{k:05d}.parquet"
            p.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(documents_table(d for d in docs[k::3] if d["source"] == s), p)
            inputs.append(p)
    srcs = make_sources(tmp_path / "data", {"web": 2, "zh": 2}, {"web": 1.0, "zh": 1.0}, files=1)
    cfg = make_config(tmp_path, srcs, tokenizer={"sample_chars": 30_000})
    monkeypatch.setattr(ts, "INLINE_BYTES", -1 if on_workers else 1 << 40)
    ctx = StageContext(cfg=cfg, output=tmp_path / "out", work=tmp_path / "work", inputs=inputs, stage_hash="h", workers=2)
    picked = ts.sample_ids(ctx)
    assert picked == _reference_sample(docs, 30_000, cfg.seed, cfg.mixture.bytes_per_token)
    fetched = ts._fetch_texts(ctx, picked)
    texts = ts.ordered_texts(*fetched)
    by_key = {(d["source"], d["id"]): d["text"] for d in docs}
    assert texts == [by_key[k] for k in picked] and 0 < sum(map(len, texts)) <= 30_000
    # trained as one task (on a worker, or here): the driver never holds the texts; same JSON
    from tokenizer.train import tokenizer_json, train_bpe

    text, chars = ts._train(ctx, *fetched)
    assert chars == sum(map(len, texts))
    assert text == tokenizer_json(train_bpe(texts, cfg.tokenizer))

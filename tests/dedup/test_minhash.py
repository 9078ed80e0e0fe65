"""Signatures equal datasketch's; grams; LSH parameters; components against a union-find."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasketch import MinHash

from filters.dedup import components as cc
from filters.dedup.config import MinHashConfig
from filters.dedup.exact import exact_key, normalize
from filters.dedup.minhash import (MinHasher, Shingler, band_key_matrix, band_keys, batch_gram_hashes, candidate_probability,
                                   gram_bounds, gram_hashes, minhash_params, resolve_bands)


def _text(rng: random.Random, n: int) -> str:
    return " ".join(f"w{rng.randrange(500)}" for _ in range(n))


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
@pytest.mark.parametrize("words", [1, 4, 5, 300])
def test_signature_equals_datasketch(scheme, words):
    text = _text(random.Random(words), words)
    ours = MinHasher(128, 1, scheme).text_signature(text.encode(), 5, chars=False)
    ref = MinHash(num_perm=128, seed=1, scheme=scheme)
    w = text.split()
    ref.update_batch([" ".join(w[i:i + 5]).encode() for i in range(max(1, len(w) - 4))])
    assert ours.dtype == ref.hashvalues.dtype
    assert np.array_equal(ours, ref.hashvalues)


def test_char_grams_and_empty_text():
    buf = "你好世界和平".encode()
    starts, ends = gram_bounds(buf, 5, chars=True)
    assert [buf[s:e].decode() for s, e in zip(starts, ends)] == ["你好世界和", "好世界和平"]
    ref = MinHash(num_perm=64, seed=7)
    ref.update_batch([g.encode() for g in ("你好世界和", "好世界和平")])
    assert np.array_equal(MinHasher(64, 7).text_signature(buf, 5, chars=True), ref.hashvalues)
    assert np.array_equal(MinHasher(64, 7).text_signature(b"", 5, chars=False), MinHash(num_perm=64, seed=7).hashvalues)


def test_normalisation_and_shingler_picks_script():
    assert normalize("  Hello\u3000WORLD\n\tＡＢＣ ") == "hello world abc"
    assert exact_key(normalize("Hello  world")) == exact_key(normalize("HELLO world"))
    sh = Shingler(MinHashConfig(char_sources=["code"]))
    assert sh.prepare("这是 一个 测试, 文本", "web") == ("这是一个测试文本".encode(), True)
    assert sh.prepare("hello, world", "web") == (b"hello world", False)
    assert sh.prepare("x = 1", "code") == (b"x1", True)


def test_lsh_params_from_threshold_and_given():
    b, r = resolve_bands(MinHashConfig(verify=True), 0.8)
    assert b * r <= 128 and candidate_probability(0.8, b, r) >= 0.9 and candidate_probability(0.5, b, r) < 0.1
    assert resolve_bands(MinHashConfig(verify=False), 0.8) == (9, 13)  # RedPajama-v2's choice for 0.8
    assert resolve_bands(MinHashConfig(bands=14, rows=8), 0.8) == (14, 8)
    with pytest.raises(ValueError):
        MinHashConfig(bands=20, rows=8)


def _union_find(edges, nodes):
    parent = {n: n for n in nodes}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v in edges:
        a, b = find(u), find(v)
        parent[max(a, b)] = min(a, b)
    return {n: find(n) for n in nodes}


def _random_graph(n_nodes: int = 300, seed: int = 3):
    rng = random.Random(seed)
    nodes = [(rng.randrange(4) << 32) | i for i in range(n_nodes)]  # uint64 nodes: part << 32 | row
    edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(220)]
    edges += [(nodes[i], nodes[i + 1]) for i in range(100, 160)]  # a long chain
    return edges


def _components(files, n):
    got = {}
    for p in range(n):
        t = cc.read_dest(files, p, cc.EDGE_SCHEMA)
        for a, b in zip(t["u"].to_pylist(), t["v"].to_pylist()):
            got[a] = min(got.get(a, a), b)
    return got


def _write_input(tmp_path, edges, n):
    u = np.array([e[0] for e in edges], np.uint64)
    v = np.array([e[1] for e in edges], np.uint64)
    u, v = cc.unique_pairs(u, v, both_ways=True)
    f = tmp_path / "in.parquet"
    cc.write_by_dest(f, cc._edges(u, v), cc.node_bucket(u, n))
    return [str(f)]


@pytest.mark.parametrize("n", [1, 3])
def test_components_single_and_star_match_union_find(tmp_path, n):
    """The file rounds, run in-process, give every node its component's smallest node: one task
    (scipy) and large-star / small-star rounds alike, for any number of buckets."""
    edges = _random_graph()
    truth = _union_find(edges, {x for e in edges for x in e})
    want = {k_: r for k_, r in truth.items() if any(k_ in e for e in edges if e[0] != e[1])}
    files = _write_input(tmp_path, edges, n)

    single = tmp_path / "single.parquet"
    cc.components_single({"inputs": files, "output": str(single), "buckets": n, "bucket": 0})
    assert _components([single], n) == want

    prev, k = None, 0
    while True:
        spec = lambda i, o, p: {"inputs": i, "output": str(tmp_path / f"{o}-{p}.parquet"), "buckets": n, "bucket": p}
        digests = [cc.large_star(spec(files, f"ls{k}", p))["digest"] for p in range(n)]
        if digests == prev:
            break
        prev = digests
        mid = [str(tmp_path / f"ls{k}-{p}.parquet") for p in range(n)]
        for p in range(n):
            cc.small_star(spec(mid, f"ss{k}", p))
        files = [str(tmp_path / f"ss{k}-{p}.parquet") for p in range(n)]
        k += 1
    assert _components(files, n) == want
    assert k >= 2


def test_band_pairs_small_groups_all_pairs_large_groups_star(tmp_path):
    """Groups up to max_group give every pair, larger ones a star to their smallest node; the
    rows of one bucket come from several files, read by their row group."""
    keys = [1, 1, 1, 2, 2, 3, 5, 5, 5, 5, 5]
    nodes = [30, 10, 20, 10, 40, 99, 50, 51, 52, 53, 54]
    t = pa.table([pa.array(keys, pa.uint64()), pa.array(nodes, pa.uint64())], schema=cc.BAND_SCHEMA)
    files = []
    for i, half in enumerate((t.slice(0, 5), t.slice(5))):
        files.append(tmp_path / f"scan{i}.parquet")
        cc.write_by_dest(files[-1], half, np.zeros(half.num_rows, np.int64))
    cc.write_by_dest(tmp_path / "other.parquet", t, np.ones(t.num_rows, np.int64))  # bucket 1: not read
    out = tmp_path / "cand.parquet"
    res = cc.band_pairs({"inputs": files + [tmp_path / "other.parquet"], "bucket": 0, "buckets": 1, "output": str(out),
                         "verify": True, "max_group": 4})
    got = set(zip(*(cc.read_dest([out], None, cc.EDGE_SCHEMA)[c].to_pylist() for c in ("u", "v"))))
    assert got == {(10, 20), (10, 30), (20, 30), (10, 40), (50, 51), (50, 52), (50, 53), (50, 54)}
    assert res["pairs"] == 8


def _meta_table(rows):
    schema = pa.schema([cc.NODE_SCHEMA.field(c) for c in cc.META_COLUMNS] + [pa.field("comp", pa.uint64())])
    return pa.table({k: rows[k] for k in schema.names}, schema=schema)


def test_keep_rule_quality_then_vendored_then_priority_then_id(tmp_path):
    rows = {  # one component 1: quality wins over vendored, priority and id; nulls rank last
        "node": [1, 2, 3, 4], "comp": [1] * 4,
        "id": ["a", "b", "c", "d"], "source": ["s", "t", "s", "u"],
        "quality": [0.5, None, 0.9, 0.9], "vendored": [False, False, False, True], "priority": [0, 0, 1, 0],
        "exact": [1, 2, 3, 3],
    }
    comp2 = {  # component 10: no quality, priority then id
        "node": [10, 11, 12], "comp": [10] * 3, "id": ["z9", "y1", "a0"], "source": ["p", "q", "q"],
        "quality": [None] * 3, "vendored": [False] * 3, "priority": [1, 0, 0], "exact": [7, 8, 9],
    }
    comp3 = {  # component 20: the original beats a vendored copy with a better priority and a smaller id
        "node": [20, (1 << 32) | 21], "comp": [20] * 2, "id": ["a-vendored", "b-original"], "source": ["p", "q"],
        "quality": [None] * 2, "vendored": [True, False], "priority": [0, 1], "exact": [5, 5],
    }
    t = pa.concat_tables([_meta_table(r) for r in (rows, comp2, comp3)])
    cc.write_by_dest(tmp_path / "m.parquet", t, None)
    cc.decide({"inputs": [tmp_path / "m.parquet"], "bucket": 0, "output": str(tmp_path / "d.parquet")})
    got = {}
    for part in (0, 1):
        d = cc.part_decisions([tmp_path / "d.parquet"], part)
        got.update({i: (part, r, k) for i, r, k in zip(*(d[c].to_pylist() for c in ("id", "reason", "duplicate_of")))})
    assert got == {
        "a": (0, "near_duplicate", "c"), "b": (0, "near_duplicate", "c"), "d": (0, "exact_duplicate", "c"),
        "z9": (0, "near_duplicate", "a0"), "y1": (0, "near_duplicate", "a0"), "a-vendored": (0, "exact_duplicate", "b-original"),
    }


def test_ascii_shingle_text_equals_regex():
    """The bytes.translate path for ASCII text cuts the same shingle text as the regex."""
    import string

    from filters.dedup import exact

    rng = random.Random(5)
    alphabet = string.printable + "\x1c\x1d\x1e\x1f\x00\x7f"
    for _ in range(3000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 200)))
        for s in (t, exact.normalize(t)):
            assert exact.shingle_text(s) == " ".join(exact._PUNCT.sub(" ", s).split())
    assert exact.shingle_text("naïve, café!") == "naïve café"  # non-ASCII: the regex path


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
def test_params_drawn_as_datasketch_draws_them(scheme):
    ref = MinHash(num_perm=64, seed=7, scheme=scheme)
    ours = minhash_params(64, 7, scheme)
    assert ours["a"] == ref.permutations[0].tolist() and ours["b"] == ref.permutations[1].tolist()
    assert ours["empty"] == ref.hashvalues.tolist() and ours["dtype"] == str(ref.hashvalues.dtype)


@pytest.mark.parametrize("scheme,kind", [("affine32", "poly64"), ("affine32", "sha1"), ("legacy", "poly64")])
def test_batched_hashes_and_signatures_equal_one_document_at_a_time(scheme, kind):
    """Empty texts, texts shorter than a gram, character grams, and texts longer than a
    permutation chunk, mixed in one batch."""
    rng = random.Random(3)
    bufs, chars = [], []
    for i in range(400):
        r = rng.random()
        if r < 0.1:
            bufs.append(b"" if i % 2 else "中文".encode())
            chars.append(bool(i % 2 == 0))
        elif r < 0.25:
            bufs.append("".join(rng.choice("中文字符测试数据的一是不了人我在有") for _ in range(rng.randint(1, 80))).encode())
            chars.append(True)
        else:
            bufs.append(_text(rng, rng.choice([1, 3, 5, 6, 50, 700, 5000])).encode())
            chars.append(False)
    hasher = MinHasher(128, 1, scheme)
    hv, off = batch_gram_hashes(bufs, chars, 5, 3, kind)
    sigs = hasher.signatures(hv, off)
    for i, (b, c) in enumerate(zip(bufs, chars)):
        one = gram_hashes(b, 3 if c else 5, c, kind) if b else np.empty(0, np.uint32)
        assert np.array_equal(hv[off[i]:off[i + 1]], one)
        assert np.array_equal(sigs[i], hasher.signature(one))
    keys = band_key_matrix(sigs, 16, 8)
    assert keys.shape == (len(bufs), 16) and keys[5].tolist() == band_keys(sigs[5], 16, 8)

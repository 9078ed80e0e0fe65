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
from filters.dedup.minhash import MinHasher, Shingler, candidate_probability, gram_bounds, resolve_bands


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


def test_large_star_small_star_match_union_find(tmp_path):
    """The file rounds, run in-process, give every node its component's smallest node."""
    rng = random.Random(3)
    nodes = [f"n{i:03d}" for i in range(300)]
    edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(220)]
    edges += [(nodes[i], nodes[i + 1]) for i in range(100, 160)]  # a long chain
    n = 3
    u = pa.array([e[0] for e in edges])
    v = pa.array([e[1] for e in edges])
    cc._write_edges(cc._both_ways(u, v), tmp_path / "r000", "in", n)
    prev, k = None, 0
    while True:
        src, mid, nxt = (tmp_path / f"r{i:03d}" for i in (2 * k, 2 * k + 1, 2 * k + 2))
        spec = lambda i, o, p: {"name": f"{p:05d}", "input": str(i / f"{p:05d}"), "output": str(o), "partitions": n}
        digests = [cc.large_star(spec(src, mid, p))["digest"] for p in range(n)]
        if digests == prev:
            break
        prev = digests
        for p in range(n):
            cc.small_star(spec(mid, nxt, p))
        k += 1
    got = {}
    for p in range(n):
        t = cc._unique_edges(cc.read_partition(src / f"{p:05d}", cc.EDGE_SCHEMA))
        for a, b in zip(t["u"].to_pylist(), t["v"].to_pylist()):
            got[a] = min(got.get(a, a), b)
    truth = _union_find(edges, {x for e in edges for x in e})
    assert got == {k_: r for k_, r in truth.items() if any(k_ in e for e in edges if e[0] != e[1])}
    assert k >= 2


def test_keep_rule_quality_then_vendored_then_priority_then_id(tmp_path):
    rows = {  # one component "c": quality wins over vendored, priority and id; nulls rank last
        "node": ["s\x1fa", "t\x1fb", "s\x1fc", "u\x1fd"], "comp": ["c"] * 4,
        "id": ["a", "b", "c", "d"], "source": ["s", "t", "s", "u"], "part": ["s-0", "t-0", "s-0", "u-0"],
        "quality": [0.5, None, 0.9, 0.9], "vendored": [False, False, False, True], "priority": [0, 0, 1, 0],
        "exact": [1, 2, 3, 3],
    }
    comp2 = {  # component "e": no quality, priority then id
        "node": ["x", "y", "z"], "comp": ["e"] * 3, "id": ["z9", "y1", "a0"], "source": ["p", "q", "q"],
        "part": ["p-0", "q-0", "q-0"], "quality": [None] * 3, "vendored": [False] * 3, "priority": [1, 0, 0],
        "exact": [7, 8, 9],
    }
    comp3 = {  # component "g": the original beats a vendored copy with a better priority and a smaller id
        "node": ["v", "w"], "comp": ["g"] * 2, "id": ["a-vendored", "b-original"], "source": ["p", "q"],
        "part": ["p-0", "q-0"], "quality": [None] * 2, "vendored": [True, False], "priority": [0, 1], "exact": [5, 5],
    }
    tables = [pa.table(r, schema=cc.META_SCHEMA.insert(1, pa.field("comp", pa.string()))) for r in (rows, comp2, comp3)]
    cc.write_table(tmp_path / "m" / "00000" / "x.parquet", pa.concat_tables(tables))
    cc.decide({"name": "00000", "input": str(tmp_path / "m" / "00000"), "output": str(tmp_path / "d")})
    out = pq.read_table(tmp_path / "d" / "00000.parquet").to_pylist()
    got = {r["id"]: (r["reason"], r["duplicate_of"]) for r in out}
    assert got == {
        "a": ("near_duplicate", "c"), "b": ("near_duplicate", "c"), "d": ("exact_duplicate", "c"),
        "z9": ("near_duplicate", "a0"), "y1": ("near_duplicate", "a0"), "a-vendored": ("exact_duplicate", "b-original"),
    }

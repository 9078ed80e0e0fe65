"""The validation split holds every source (floors in documents and tokens, stated in the manifest),
the manifest carries the planned epochs, and a shard never overflows its int32 offsets."""

import random
from collections import Counter

import numpy as np
import pytest

from pipelines.errors import ConfigError
from shards.config import MAX_SHARD_TOKENS
from shards.format import Manifest, flat_tokens, open_shard, tokens_array
from shards.split import val_split
from shards.stage import assign_shards
from tests.conftest import make_config, run_config, write_jsonl
from tests.shards.corpus import english, full_run, make_sources
from tokenizer.config import EOT


def _selection(n_by_source: dict[str, int], repeats: int = 1):
    ids, srcs, toks = [], [], []
    for s, n in n_by_source.items():
        for _ in range(repeats):
            for i in range(n):
                ids.append(f"{s}-{i}")
                srcs.append(s)
                toks.append(10 + i % 7)
    return ids, srcs, np.array(toks, np.int64)


def test_floors_give_every_source_validation_documents():
    ids, srcs, toks = _selection({"web": 2000, "code": 20, "books": 3}, repeats=2)
    is_val, st = val_split(0, ids, srcs, toks, 0.01, 4, 0)
    held = Counter(s for s, v in zip(srcs, is_val) if v)
    assert st["web"]["by_hash"] > 4 and st["web"]["added_for_floor"] == 0  # the hash alone is enough
    assert st["code"]["documents"] == 4 and not st["code"]["short"]
    assert st["books"]["documents"] == 1 and st["books"]["short"]  # at most half of 3 documents
    for s, v in st.items():
        assert held[s] == 2 * v["documents"]  # repeats stay with their document
        assert v["tokens"] == int(toks[np.array(srcs) == s][is_val[np.array(srcs) == s]].sum())
    val_ids = {i for i, v in zip(ids, is_val) if v}
    assert not val_ids & {i for i, v in zip(ids, is_val) if not v}


def test_token_floor_and_stability():
    ids, srcs, toks = _selection({"web": 500, "code": 40})
    base, st0 = val_split(7, ids, srcs, toks, 0.02, 0, 0)
    is_val, st = val_split(7, ids, srcs, toks, 0.02, 0, 100)
    assert all(v["tokens"] >= 100 for v in st.values())
    assert not (base & ~is_val).any()  # the floor only adds documents to the hash's choice
    assert st["web"]["documents"] == max(st0["web"]["documents"], st["web"]["documents"])
    again, _ = val_split(7, ids[::-1], srcs[::-1], toks[::-1], 0.02, 0, 100)
    assert np.array_equal(again[::-1], is_val)  # a function of (seed, id), not of row order
    assert not val_split(7, ids, srcs, toks, 0.0, 5, 100)[0].any()  # fraction 0: no validation split


def test_shard_size_is_bounded_for_int32_offsets(tmp_path):
    assert list(assign_shards(np.array([5, 5, 5]), 6)) == [0, 0, 1]
    with pytest.raises(ConfigError, match=r"^shards.tokens_per_shard: shard 0 would hold 2,147,483,648 tokens"):
        assign_shards(np.array([2**30, 2**30, 10]), MAX_SHARD_TOKENS)
    with pytest.raises(ValueError, match="int32"):
        tokens_array(np.zeros(3, np.uint16), np.array([0, 3, 2**31], np.int64), 512)
    with pytest.raises(ConfigError, match=r"^shards.tokens_per_shard: .*2147483647"):
        make_config(tmp_path, [{"name": "a", "kind": "jsonl", "paths": [str(tmp_path)]}],
                    shards={"tokens_per_shard": 2**31})


def test_manifest_states_planned_epochs_and_validation(ray_local, tmp_path_factory):
    _, _, out = full_run(tmp_path_factory, workers=1)
    m = Manifest.load(out / "shards")
    table = {r["source"]: r for r in m.extra["mixture"]}
    assert m.extra["planned_epochs"] == {s: r["epochs"] for s, r in table.items()}
    assert m.extra["planned_epochs"]["code"] == pytest.approx(2.0)  # the corpus caps code at 2 epochs
    val = m.extra["val"]
    assert val["rule"] == {"fraction": 0.05, "min_documents": 2, "min_tokens": 0, "max_floor_share": 0.5,
                           "stratified_by": "source"}
    totals = m.totals()["val"]
    for s in ("web", "zh", "code"):
        assert val["by_source"][s]["tokens"] == totals["tokens_by_source"][s] > 0


def test_small_sources_get_validation_documents_in_a_run(ray_local, tmp_path):
    srcs = make_sources(tmp_path / "data", {"web": 60, "zh": 6, "code": 4}, {"web": 1.0, "zh": 1.0, "code": 1.0},
                        files=1)
    rng = random.Random(1)  # a page that quotes the end-of-text string must stay one document
    write_jsonl(tmp_path / "data" / "web" / "99.jsonl",
                [{"id": f"web-eot-{k}", "text": f"{english(rng)} {EOT} {english(rng)}"} for k in range(3)])
    cfg = make_config(tmp_path, srcs, tokenizer={"vocab_size": 300, "sample_chars": 50_000},
                      shards={"tokens_per_shard": 5_000, "val_fraction": 0.02, "val_min_documents": 2,
                              "val_min_tokens": 300})
    run_config(cfg, workers=1)
    m = Manifest.load(tmp_path / "out" / "shards")
    val_ids = Counter()
    for f in m.files("val"):
        t = open_shard(tmp_path / "out" / "shards" / f.file)
        val_ids.update(zip(t.column("source").to_pylist(), t.column("id").to_pylist()))
    by_source = m.extra["val"]["by_source"]
    assert set(by_source) == {"web", "zh", "code"}
    for s, v in by_source.items():
        assert v["documents"] == len({i for src, i in val_ids if src == s}) >= 2
        assert v["tokens"] == m.totals()["val"]["tokens_by_source"][s]
        assert v["short"] == (v["tokens"] < 300)
    assert by_source["code"]["documents"] == 2 and by_source["code"]["added_for_floor"] == 2 - by_source["code"]["by_hash"]
    train_ids = {(s, i) for f in m.files("train") for s, i in
                 zip(*(open_shard(tmp_path / "out" / "shards" / f.file).column(c).to_pylist() for c in ("source", "id")))}
    assert {s for s, _ in train_ids} == {"web", "zh", "code"} and not train_ids & set(val_ids)
    assert any("/web-eot-" in i for _, i in train_ids | set(val_ids))
    for f in m.shards:  # exactly one end-of-text per document, at its end
        flat, offsets = flat_tokens(open_shard(tmp_path / "out" / "shards" / f.file))
        assert int((flat == m.eot_id).sum()) == len(offsets) - 1 and (flat[offsets[1:] - 1] == m.eot_id).all()

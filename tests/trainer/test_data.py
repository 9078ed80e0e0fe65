"""The shard loader: zero copy, correct streams, pure sample order, disjoint ranks, weights, refusals."""

from __future__ import annotations

import gc
import shutil

import numpy as np
import pyarrow as pa
import pytest

from pipelines.errors import ConfigError
from shards.format import Manifest, open_shard
from trainer.data import TrainLoader, open_split, parse_weights, val_windows


def _documents(folder, split):
    """{source: concatenated tokens of its documents in shard order}, the slow obvious way."""
    out: dict[str, list[int]] = {}
    for info in Manifest.load(folder).files(split):
        t = open_shard(folder / info.file)
        for src, toks in zip(t.column("source").to_pylist(), t.column("tokens").to_pylist()):
            out.setdefault(src, []).extend(toks)
    return {k: np.array(v) for k, v in out.items()}


def test_open_is_zero_copy_and_streams_match_documents(shards):
    gc.collect()
    before = pa.total_allocated_bytes()
    data = open_split(shards, "train")
    gc.collect()
    assert pa.total_allocated_bytes() - before == 0
    assert all(not seg.flags.owndata for seg in data.segments)  # views of the mapped files
    expected = _documents(shards, "train")
    assert sorted(data.streams) == ["books", "code", "web"]
    for name, stream in data.streams.items():
        full = expected[name]
        assert stream.tokens == len(full)
        # A read crossing many document and shard boundaries equals the concatenation.
        out = np.empty(len(full) - 7, dtype=np.int64)
        stream.read(data.segments, 7, out)
        assert np.array_equal(out, full[7:])
    assert data.tokens == sum(s.tokens for s in Manifest.load(shards).files("train"))


def test_sample_order_is_a_pure_function_of_seed_step_rank(shards):
    data = open_split(shards, "train")
    a = TrainLoader(data, 32, 8, seed=1, rank=0, world_size=2)
    b = TrainLoader(open_split(shards, "train"), 32, 8, seed=1, rank=0, world_size=2)
    assert np.array_equal(a.batch_numpy(5, 1), b.batch_numpy(5, 1))
    assert a.positions(5, 1) != a.positions(6, 1) != a.positions(5, 0)
    assert a.positions(5) != TrainLoader(data, 32, 8, seed=2, rank=0, world_size=2).positions(5)
    x, y = a.batch(3)
    assert x.shape == y.shape == (8, 32) and str(x.dtype) == "torch.int64"
    assert np.array_equal(x[:, 1:].numpy(), y[:, :-1].numpy())  # y is x shifted by one


def test_ranks_draw_from_disjoint_slices(shards):
    data = open_split(shards, "train")
    T = 32
    seen = []
    for rank in range(3):
        loader = TrainLoader(data, T, 8, seed=0, rank=rank, world_size=3)
        seen.append({(s, p + i) for step in range(20) for s, p in loader.positions(step) for i in range(T + 1)})
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])


def test_source_weights(shards):
    data = open_split(shards, "train")
    only_code = TrainLoader(data, 32, 8, weights=parse_weights("code=1", list(data.streams)))
    assert {s for step in range(10) for s, _ in only_code.positions(step)} == {"code"}
    mix = TrainLoader(data, 32, 8, weights=parse_weights("web=3,books=1", list(data.streams)))
    drawn = [s for step in range(200) for s, _ in mix.positions(step)]
    assert "code" not in drawn
    assert 0.7 < drawn.count("web") / len(drawn) < 0.8
    with pytest.raises(ConfigError, match="unknown source"):
        parse_weights("news=1", list(data.streams))
    with pytest.raises(ConfigError, match="NAME=WEIGHT"):
        parse_weights("web", list(data.streams))


def test_val_windows_cover_each_source_once_across_ranks(shards):
    data = open_split(shards, "val")
    per_rank = [val_windows(data, 32, rank, 2) for rank in range(2)]
    expected = _documents(shards, "val")
    for name, stream in data.streams.items():
        count = stream.tokens // 33
        assert [len(p[name]) for p in per_rank] == [(count + 1) // 2, count // 2]
        rows = [per_rank[i % 2][name][i // 2] for i in range(count)]  # window i belongs to rank i % 2
        assert np.array_equal(np.concatenate(rows), expected[name][: 33 * count])


def test_refuses_wrong_tokenizer_and_bad_checksum(shards, tmp_path):
    good = Manifest.load(shards).tokenizer_sha256
    assert open_split(shards, "train", expect_tokenizer=good).tokens > 0
    assert open_split(shards, "train", expect_tokenizer=str(shards / "../tokenizer/tokenizer.json")).tokens > 0
    with pytest.raises(ConfigError, match="tokenizer sha256"):
        open_split(shards, "train", expect_tokenizer="0" * 64)
    other = tmp_path / "other.json"
    other.write_text("{}")
    with pytest.raises(ConfigError, match="different tokenizer"):
        open_split(shards, "train", expect_tokenizer=str(other))
    with pytest.raises(ConfigError, match="neither a sha256 nor a tokenizer file"):
        open_split(shards, "train", expect_tokenizer=str(tmp_path / "missing.json"))

    bad = tmp_path / "shards"
    shutil.copytree(shards, bad)
    victim = bad / Manifest.load(bad).files("train")[0].file
    raw = bytearray(victim.read_bytes())
    raw[-100] ^= 0xFF
    victim.write_bytes(bytes(raw))
    with pytest.raises(ConfigError, match="sha256 mismatch"):
        open_split(bad, "train")
    with pytest.raises(ConfigError, match="no test shards"):
        open_split(shards, "test")
    with pytest.raises(ConfigError, match="fewer than block_size"):
        TrainLoader(open_split(shards, "val"), 4096, 8)


# --- epoch-exact sampler -------------------------------------------------------------------------

from trainer.data import Prefetcher, coverage, val_weights  # noqa: E402


def _epoch_loader(data, **kw):
    args = {"block_size": 32, "batch_size": 4, "seed": 3, "sampler": "epoch", "micro_steps": 2} | kw
    return TrainLoader(data, **args)


def test_epoch_sampler_covers_every_token_in_one_planned_epoch(shards):
    ld = _epoch_loader(open_split(shards, "train"))
    cov = coverage(ld)
    assert cov["seen"] == 1.0 and cov["never"] == 0.0 and cov["3plus"] == 0.0
    assert cov["once"] > 0.98  # only each segment's end-aligned last window overlaps its neighbour
    rnd = coverage(TrainLoader(open_split(shards, "train"), 32, 4, seed=3), cov["steps"] * 2)
    assert rnd["never"] > 0.2  # with replacement, the same token budget misses many tokens


def test_epoch_sampler_is_deterministic_and_resumes_mid_epoch(shards):
    data = open_split(shards, "train")
    a, b = _epoch_loader(data), _epoch_loader(open_split(shards, "train"))
    steps = a.plan.slots // 8 + 3  # runs past the first planned epoch into the next
    first = [a.batch_numpy(s, m) for s in range(steps) for m in range(2)]
    resumed = [b.batch_numpy(s, m) for s in range(steps // 2, steps) for m in range(2)]
    assert all(np.array_equal(x, y) for x, y in zip(first[2 * (steps // 2):], resumed))
    assert not np.array_equal(first[0], first[1])
    with pytest.raises(ConfigError):
        a.batch_numpy(0, 2)


def test_epoch_sampler_rows_are_stream_windows_within_one_shard(shards):
    data = open_split(shards, "train")
    ld = _epoch_loader(data)
    expected = _documents(shards, "train")
    for step in range(20):
        buf = ld.batch_numpy(step, 1)
        for row, (src, pos) in zip(buf, ld.positions(step, 1)):
            assert np.array_equal(row, expected[src][pos: pos + 33])
            st = data.streams[src]
            i, j = np.searchsorted(st.cum, [pos, pos + 32], side="right") - 1
            assert st.seg[i] == st.seg[j]  # no window crosses a shard boundary


def test_epoch_sampler_ranks_disjoint(shards):
    data = open_split(shards, "train")
    seen = []
    for rank in range(2):
        ld = _epoch_loader(data, rank=rank, world_size=2)
        cover = set()
        for step in range(ld.plan.slots // 8 + 1):
            for m in range(2):
                cover |= {(s, p + d) for s, p in ld.positions(step, m) for d in range(33)}
        seen.append(cover)
    assert seen[0] and seen[1] and not seen[0] & seen[1]


def test_epoch_sampler_respects_per_source_epochs(shards):
    data = open_split(shards, "train")
    share = {s: data.streams[s].tokens / data.tokens for s in data.streams}
    w = {s: share[s] * (2.0 if s == "code" else 1.0) for s in share}
    ld = _epoch_loader(data, weights=parse_weights(w, sorted(w)))
    assert ld.plan.epochs["code"] == pytest.approx(2 * ld.plan.epochs["web"])
    counts = dict.fromkeys(ld.sources, 0)
    for step in range(-(-ld.plan.slots // 8)):
        for m in range(2):
            for s, _ in ld.positions(step, m):
                counts[s] += 1
    n = dict(zip(ld.sources, (len(x) for x in ld.plan.starts)))
    ratio = {s: counts[s] / n[s] for s in counts}
    assert ratio["code"] == pytest.approx(2 * ratio["web"], rel=0.05)
    assert sum(val_weights(ld).values()) == pytest.approx(1.0)


def test_prefetch_yields_the_inline_order(shards):
    ld = _epoch_loader(open_split(shards, "train"))
    keys = [(s, m) for s in range(5) for m in range(2)]
    pf = Prefetcher(ld, keys, depth=2)
    got = list(pf)
    pf.close()
    assert [k for k, _ in got] == keys
    assert all(np.array_equal(b, ld.batch_numpy(*k)) for k, b in got)


def test_coverage_script_prints_both_samplers(shards, capsys):
    from trainer.data import main

    assert main([str(shards), "--block", "32", "--batch", "4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("epoch") and "tokens seen 100.0%" in out[0] and "never 0.0%" in out[0]
    assert out[1].startswith("random") and "never 0.0%" not in out[1]


def test_prefetch_raises_the_loaders_error_at_its_batch(shards):
    ld = _epoch_loader(open_split(shards, "train"))
    pf = Prefetcher(ld, [(0, 0), (0, 1), (0, 2)], depth=1)  # micro 2 >= micro_steps 2
    it = iter(pf)
    assert next(it)[0] == (0, 0) and next(it)[0] == (0, 1)
    with pytest.raises(ConfigError, match="micro-step 2"):
        next(it)
    pf.close()


def test_epoch_sampler_refuses_a_source_with_no_window_inside_one_shard(shards):
    with pytest.raises(ConfigError, match="fits inside one shard"):
        _epoch_loader(open_split(shards, "train"), block_size=8000)
    with pytest.raises(ConfigError, match="--sampler"):
        TrainLoader(open_split(shards, "train"), 32, 4, sampler="shuffle")


def test_coverage_as_planned_follows_per_source_epochs(shards):
    data = open_split(shards, "train")
    share = {s: data.streams[s].tokens / data.tokens for s in data.streams}
    w = {s: share[s] * (2.0 if s == "code" else 1.0) for s in share}
    ld = _epoch_loader(data, weights=parse_weights(w, sorted(w)))
    assert 1.4 < ld.plan.epochs["code"] < 1.6 and 0.7 < ld.plan.epochs["web"] < 0.8  # normalized: code 2x the rest
    cov = coverage(ld)  # web and books seen 0-1 times, code 1-2 times, as planned
    rnd = coverage(TrainLoader(data, 32, 4, seed=3, weights=ld.weights), cov["steps"] * 2)
    assert cov["as_planned"] > 0.99 and cov["3plus"] < 0.01 and rnd["as_planned"] < 0.9
    first = _epoch_loader(data, first_step=10)  # a mix-schedule segment starting at step 10 starts its own plan
    assert first.positions(10, 0) == _epoch_loader(data).positions(0, 0)
    with pytest.raises(ConfigError, match="before this loader's first step"):
        first.positions(9, 0)


def test_epoch_sampler_rows_when_each_window_is_one_document_run(tmp_path):
    # One source: a shard's documents are one span, so every window lies inside one span (the short path).
    from tests.trainer.shardkit import write_dataset

    folder = write_dataset(tmp_path, docs_per_source=400, sources=("web",))
    data = open_split(folder, "train")
    ld = _epoch_loader(data)
    st = data.streams["web"]
    assert len(st.cum) - 1 == len(data.segments)
    for step in range(30):
        for row, (_, pos) in zip(ld.batch_numpy(step, 0), ld.positions(step, 0)):
            ref = np.empty(33, np.int64)
            st.read(data.segments, pos, ref)
            assert np.array_equal(row, ref)

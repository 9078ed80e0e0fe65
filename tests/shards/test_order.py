"""The shards stage's decisions without rows on the driver equal the in-memory reference: the val
split from worker scans (`decide_val`) is `val_split`'s, and the distributed sort (`scatter`, then
`bucket_sort` per key range) gives every split's canonical order (key, source, id) and shard cuts
(`assign_shards`). Coarse histograms and a tiny gather limit force refinement rounds. No Ray: the
tasks' functions run here on files in tmp_path."""

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipelines.mixture import doc_keys
from shards.order import SORTED_SCHEMA, bucket_sort, dest_offsets, is_val, order_keys, scatter, shard_rows, summed, DEST_SCHEMA
from shards.split import decide_val, scan_val, val_split
from shards.stage import assign_shards

SEED = 11


def _selection(rng: random.Random) -> list[pa.Table]:
    """Selection files: sources of very different sizes, some documents repeated (epochs), a
    document's repeat in another file (as the mixture's cut files hold a partial epoch)."""
    files = [[] for _ in range(3)]
    for s, n in (("web", 400), ("code", 40), ("zh", 7), ("tiny", 1)):
        for i in range(n):
            doc = f"{s}/{rng.getrandbits(30):x}"
            tokens = rng.randint(1, 60)
            for e in range(rng.choice([1, 1, 2, 3])):
                files[rng.randrange(3) if e else i % 3].append((doc, s, e, tokens, i % 5, 7 * i))
    return [pa.table({"id": [r[0] for r in f], "source": [r[1] for r in f], "epoch": pa.array([r[2] for r in f], pa.int32()),
                      "tokens": pa.array([r[3] for r in f], pa.int64()), "part": pa.array([r[4] for r in f], pa.int32()),
                      "pstart": pa.array([r[5] for r in f], pa.int64())}) for f in files]


def _scan(files, limit):
    calls = []

    def scan(hist, gather):
        calls.append((hist, gather))
        outs = [scan_val(f, SEED, limit, hist, gather) for f in files]
        counts = {}
        for c, _, _ in outs:
            for k, v in c.items():
                counts[k] = counts.get(k, 0) + v
        return counts, pa.concat_tables([h for _, h, _ in outs]), pa.concat_tables([r for _, _, r in outs])
    return scan, calls


@pytest.mark.parametrize("fraction,min_docs,min_tokens", [(0.02, 2, 0), (0.05, 4, 900), (0.3, 0, 0), (0.01, 30, 5000), (0.0, 3, 10)])
def test_val_split_from_scans_equals_the_reference(fraction, min_docs, min_tokens):
    files = _selection(random.Random(fraction))
    rows = pa.concat_tables(files)
    ref_val, ref_stats = val_split(SEED, rows.column("id").to_pylist(), rows.column("source").to_pylist(),
                                   rows.column("tokens").to_numpy(), fraction, min_docs, min_tokens)
    limit = min(int(fraction * 2**64), 2**64 - 1)
    scan, calls = _scan(files, limit)
    cuts, stats, docs = decide_val(scan, fraction, min_docs, min_tokens, bits=2, gather_limit=3)
    assert stats == ref_stats
    assert np.array_equal(is_val(rows, SEED, cuts), ref_val)
    assert docs == {s: len(set(rows.filter(pc.equal(rows.column("source"), s)).column("id").to_pylist()))
                    for s in ("web", "code", "zh", "tiny")}
    if fraction and (min_tokens or min_docs > 2):
        assert any(h and h.get("*") is None for h, _ in calls[1:])  # a refinement round ran
        assert any(g for _, g in calls)  # and a bucket was gathered


def test_distributed_sort_gives_the_canonical_order_and_shard_cuts(tmp_path):
    files = _selection(random.Random(3))
    rows = pa.concat_tables(files)
    scan, _ = _scan(files, int(0.05 * 2**64))
    cuts, _, _ = decide_val(scan, 0.05, 3, 0)
    per_shard, buckets = 150, 3
    for k, f in enumerate(files):
        scatter(f, SEED, cuts, buckets, tmp_path / "rows" / f"{k}.parquet", tmp_path / "agg" / f"{k}.parquet")
    dests = summed([tmp_path / "agg" / f"{k}.parquet" for k in range(3)], DEST_SCHEMA, "dest", 2 * buckets)
    first = dest_offsets(dests["tokens"], buckets)
    scattered = [str(tmp_path / "rows" / f"{k}.parquet") for k in range(3)]
    val = is_val(rows, SEED, cuts)
    keys = order_keys(SEED, rows.column("id").to_pylist(), rows.column("epoch").to_numpy())
    assert np.array_equal(keys[:5], [doc_keys(SEED, [i], int(e))[0] for i, e in
                                     zip(rows.column("id").to_pylist()[:5], rows.column("epoch").to_pylist()[:5])])
    for si, mask in enumerate((~val, val)):
        t = rows.filter(pa.array(mask))
        ref = pa.table({"key": pa.array(keys[mask], pa.uint64()), "source": t.column("source"), "id": t.column("id"),
                        "tokens": t.column("tokens"), "part": t.column("part"), "pstart": t.column("pstart")}, schema=SORTED_SCHEMA)
        ref = ref.take(pc.sort_indices(ref, [("key", "ascending"), ("source", "ascending"), ("id", "ascending")]))
        ref_shard = assign_shards(ref.column("tokens").to_numpy(), per_shard)
        shards: dict[int, list[str]] = {}
        for d in range(si * buckets, (si + 1) * buckets):
            if dests["docs"][d]:
                out = tmp_path / "sorted" / f"{d}.parquet"
                agg = bucket_sort(scattered, d, int(first[d]), per_shard, out)
                for k in agg.column("shard").to_pylist():
                    shards.setdefault(k, []).append(str(out))
        assert sorted(shards) == list(range(int(ref_shard[-1]) + 1))
        got = pa.concat_tables([shard_rows(shards[k], k) for k in sorted(shards)])
        assert got.equals(ref)
        for k in shards:
            assert shard_rows(shards[k], k).num_rows == int((ref_shard == k).sum())
        assert len(shards) > 2 or si == 1
